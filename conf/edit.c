/*
 * edit.c - changing main.cf in place (moatconf -e), atomically.
 *
 * Called by moatconf. The new file keeps every comment and every other
 * line; a parameter's existing definition (with its continuation lines) is
 * replaced where it stands, later duplicates are removed, and a parameter
 * not yet set is appended. The whole new text is loaded and checked before
 * anything is written, so this must never leave a main.cf that moat refuses
 * to start with, nor a half-written one: the text goes to a temporary file
 * in the same directory, is fsynced, renamed over main.cf, and the directory
 * is fsynced so that the rename survives a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_priv.h"
#include "lib/iox.h"
#include "lib/xmem.h"

/* conf_defines - 1 if the physical line starts the definition of name. */
static int conf_defines(const struct cf_span *sp, const char *name)
{
	size_t n = strlen(name), i = n;

	if (sp->len < n || memcmp(sp->start, name, n) != 0)
		return 0;
	while (i < sp->len && (sp->start[i] == ' ' || sp->start[i] == '\t'))
		i++;
	return i < sp->len && sp->start[i] == '=';
}

/* conf_edit_line - "name = value" as postconf writes it ("name =" if empty). */
static void conf_edit_line(struct buf *out, const char *name, const char *value)
{
	buf_printf(out, *value ? "%s = %s\n" : "%s =%s\n", name, value);
}

/* conf_edit_one - text with name's definitions replaced by "name = value". */
static void conf_edit_one(const struct buf *in, const char *name, const char *value,
			  struct buf *out)
{
	struct cf_span sp;
	size_t pos = 0;
	int done = 0, dropping = 0;

	buf_reset(out);
	while (cf_next_line(in->data ? in->data : "", in->len, &pos, &sp)) {
		enum cf_line cls = cf_line_class(sp.start, sp.len);

		if (cls == CF_START)
			dropping = conf_defines(&sp, name);
		if (dropping && cls == CF_START && !done) {
			conf_edit_line(out, name, value);
			done = 1;
		}
		if (dropping && (cls == CF_START || cls == CF_CONT))
			continue;
		buf_append(out, sp.start, sp.len);
		buf_putc(out, '\n');
	}
	if (!done)
		conf_edit_line(out, name, value);
}

/* conf_edit_parse - "name=value" into a known name and a one-line value. */
static int conf_edit_parse(const char *assign, char **name, char **value, struct buf *err)
{
	const char *eq = strchr(assign, '='), *n = assign, *v;
	size_t nlen, vlen;

	if (!eq) {
		buf_printf(err, "bad assignment \"%.60s\" (expected name=value)", assign);
		return -1;
	}
	nlen = (size_t)(eq - assign);
	cf_trim(&n, &nlen);
	v = eq + 1;
	vlen = strlen(v);
	cf_trim(&v, &vlen);
	*name = xstrndup(n, nlen);
	if (!conf_param_lookup(*name)) {
		const char *near = conf_param_nearest(*name);

		buf_printf(err, "unknown parameter %s", *name);
		if (near)
			buf_printf(err, " (did you mean %s?)", near);
		xfree(*name);
		return -1;
	}
	if (memchr(v, '\n', vlen) || memchr(v, '\r', vlen)) {
		buf_printf(err, "parameter %s: the value must be one line", *name);
		xfree(*name);
		return -1;
	}
	*value = xstrndup(v, vlen);
	return 0;
}

/* conf_edit_temp - write text to a new temporary file in dirfd, fsynced;
 * returns its name (relative to dirfd) or NULL. */
static char *conf_edit_temp(int dirfd, const char *dir, const struct buf *text,
			    const struct stat *old, struct buf *err)
{
	struct buf path = BUF_INIT;
	char *base;
	int fd;

	buf_printf(&path, "%s/.main.cf.XXXXXX", dir);
	fd = mkstemp(path.data);
	if (fd < 0) {
		buf_printf(err, "%s: %m", buf_str(&path));
		buf_free(&path);
		return NULL;
	}
	base = xstrdup(strrchr(path.data, '/') + 1);
	if (fchmod(fd, old ? old->st_mode & 07777 : 0644) < 0
	    || (old && (old->st_uid != geteuid() || old->st_gid != getegid())
		&& fchown(fd, old->st_uid, old->st_gid) < 0)
	    || iox_write_full(fd, text->data, text->len) < 0 || fsync(fd) < 0) {
		buf_printf(err, "%s: %m", buf_str(&path));
		close(fd);
		unlinkat(dirfd, base, 0);
		xfree(base);
		base = NULL;
	} else if (close(fd) < 0) {
		buf_printf(err, "%s: close: %m", buf_str(&path));
		unlinkat(dirfd, base, 0);
		xfree(base);
		base = NULL;
	}
	buf_free(&path);
	return base;
}

/* conf_edit_write - replace <dir>/main.cf by text, durably. */
static int conf_edit_write(const char *dir, const struct buf *text, struct buf *err)
{
	struct stat st;
	int dirfd, have, r = -1;
	char *tmp;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		buf_printf(err, "%s: %m", dir);
		return -1;
	}
	have = fstatat(dirfd, "main.cf", &st, 0) == 0;
	tmp = conf_edit_temp(dirfd, dir, text, have ? &st : NULL, err);
	if (tmp && renameat(dirfd, tmp, dirfd, "main.cf") < 0) {
		buf_printf(err, "%s/main.cf: rename: %m", dir);
		unlinkat(dirfd, tmp, 0);
	} else if (tmp && iox_fsync_dirat(dirfd, ".") < 0) {
		buf_printf(err, "%s: fsync: %m", dir);
	} else if (tmp) {
		r = 0;
	}
	xfree(tmp);
	close(dirfd);
	return r;
}

/* conf_editv - apply n assignments, check the result, write it. */
int conf_editv(const char *dir, char *const *assign, size_t n, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT, next = BUF_INIT, tmp;
	struct conf *check;
	size_t i;
	int r = -1;

	buf_reset(err);
	buf_printf(&path, "%s/main.cf", dir);
	if (cf_read_file(buf_str(&path), &text, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		char *name, *value;

		if (conf_edit_parse(assign[i], &name, &value, err) < 0)
			goto out;
		conf_edit_one(&text, name, value, &next);
		tmp = text;
		text = next;
		next = tmp;
		xfree(name);
		xfree(value);
	}
	check = conf_load_with_master(dir, buf_str(&text), text.len, buf_str(&path), err);
	if (!check)
		goto out;
	conf_free(check);
	r = conf_edit_write(dir, &text, err);
out:
	buf_free(&path);
	buf_free(&text);
	buf_free(&next);
	return r;
}

/* conf_edit - one assignment (see conf_editv). */
int conf_edit(const char *dir, const char *name, const char *value, struct buf *err)
{
	struct buf assign = BUF_INIT;
	char *v[1];
	int r;

	buf_printf(&assign, "%s=%s", name, value);
	v[0] = assign.data;
	r = conf_editv(dir, v, 1, err);
	buf_free(&assign);
	return r;
}
