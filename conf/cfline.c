/*
 * cfline.c - what main.cf and master.cf have in common: reading the file
 * under a size cap, cutting it into physical lines, and classifying each
 * line by Postfix's rules (blank, comment, continuation, start of an entry).
 *
 * Called by conf/maincf.c, conf/mastercf.c and conf/edit.c. It must never
 * interpret a line beyond its class: the parsers own the syntax.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_priv.h"

static int cf_blank(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* cf_trim - move *s and *len past leading and trailing white space. */
void cf_trim(const char **s, size_t *len)
{
	while (*len > 0 && cf_blank((unsigned char)**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && cf_blank((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* cf_line_class - Postfix's rule: '#' after optional blanks is a comment
 * (only there: '#' inside a value is text), an all-blank line is nothing, a
 * line that starts with a blank continues the entry before it. */
enum cf_line cf_line_class(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && cf_blank((unsigned char)s[i]))
		i++;
	if (i == len)
		return CF_BLANK;
	if (s[i] == '#')
		return CF_COMMENT;
	return i > 0 ? CF_CONT : CF_START;
}

/* cf_next_line - the physical line at *pos (without "\n" or "\r\n"); 0 at
 * the end of text. */
int cf_next_line(const char *text, size_t len, size_t *pos, struct cf_span *out)
{
	const char *nl;
	size_t n;

	if (*pos >= len)
		return 0;
	out->start = text + *pos;
	nl = memchr(out->start, '\n', len - *pos);
	n = nl ? (size_t)(nl - out->start) : len - *pos;
	*pos += n + (nl != NULL);
	if (n > 0 && out->start[n - 1] == '\r')
		n--;
	out->len = n;
	return 1;
}

/* cf_read_loop - read fd to its end into text, at most CONF_FILE_MAX bytes.
 * Reads go straight into the buffer's reserved room, so no fixed-size
 * buffer ever holds file content. */
static int cf_read_loop(int fd, const char *path, struct buf *text, struct buf *err)
{
	const size_t step = 65536;

	for (;;) {
		ssize_t r;

		if (text->len > CONF_FILE_MAX || buf_reserve(text, step) < 0) {
			buf_printf(err, "%s: file is larger than %zu bytes", path, CONF_FILE_MAX);
			return -1;
		}
		r = read(fd, text->data + text->len, step);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			buf_printf(err, "%s: read: %m", path);
			return -1;
		}
		if (r == 0)
			break;
		text->len += (size_t)r;
		text->data[text->len] = 0;
	}
	if (text->len > CONF_FILE_MAX) {
		buf_printf(err, "%s: file is larger than %zu bytes", path, CONF_FILE_MAX);
		return -1;
	}
	return 0;
}

/* cf_read_file - the whole of path in text. 0 on success, 1 if the file
 * does not exist, -1 with a reason in err otherwise. */
int cf_read_file(const char *path, struct buf *text, struct buf *err)
{
	struct stat st;
	int fd, r;

	buf_reset(err);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		buf_printf(err, "%s: open: %m", path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		buf_printf(err, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	r = cf_read_loop(fd, path, text, err);
	close(fd);
	return r;
}

/* cf_each_entry - join each entry's continuation lines (blank and comment
 * lines in between are skipped, as Postfix does) and hand the logical line
 * to fn with the number of its first physical line. */
int cf_each_entry(const char *text, size_t len, const char *filename, cf_entry_fn fn,
		  void *ctx, struct buf *err)
{
	struct buf entry = BUF_INIT;
	struct cf_span sp;
	size_t pos = 0, line = 0, start = 0;
	int r = 0;

	while (r == 0 && cf_next_line(text, len, &pos, &sp)) {
		enum cf_line cls = cf_line_class(sp.start, sp.len);
		const char *s = sp.start;
		size_t n = sp.len;

		line++;
		if (memchr(sp.start, 0, sp.len)) {
			buf_printf(err, "%s:%zu: NUL byte in line", filename, line);
			r = -1;
		} else if (cls == CF_START) {
			if (start)
				r = fn(ctx, entry.data, entry.len, start, err);
			buf_set(&entry, sp.start, sp.len);
			start = line;
		} else if (cls == CF_CONT && !start) {
			buf_printf(err, "%s:%zu: continuation line without an entry before it",
				   filename, line);
			r = -1;
		} else if (cls == CF_CONT) {
			cf_trim(&s, &n);
			buf_putc(&entry, ' ');
			buf_append(&entry, s, n);
		}
	}
	if (r == 0 && start)
		r = fn(ctx, entry.data, entry.len, start, err);
	buf_free(&entry);
	return r;
}
