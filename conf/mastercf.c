/*
 * mastercf.c - reading master.cf: one service per entry, Postfix's columns
 *
 *   service type private unpriv chroot wakeup maxproc command [args]
 *
 * with '-' for a column's default, '#' comment lines, continuation lines
 * that start with white space, "{ text with blanks }" grouping, and
 * "-o name=value" (or "-o { name = value }") overrides of main.cf.
 *
 * Called by the broker at start-up and by moatconf. Every override's name is
 * checked against the parameter table and its value against the parameter's
 * type (on a copy of the configuration), so a typo in master.cf stops the
 * start with "master.cf:N:" instead of surfacing later in a stage. This file
 * must never let a service name or command carry a path: the broker builds
 * socket and program names from them.
 */
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "conf/conf_priv.h"
#include "lib/msg.h"
#include "lib/strnum.h"
#include "lib/xmem.h"

/* What one entry's parse needs. */
struct master_ctx {
	struct master_cf *m;
	const struct conf *c;
	const char *filename;
};

static const char *const master_types[] = { "inet", "unix", "unix-dgram", "fifo", "pass", NULL };

static void master_strv_push(char ***v, size_t *n, const char *s, size_t len)
{
	*v = xreallocarray(*v, *n + 2, sizeof(char *));
	(*v)[(*n)++] = xstrndup(s, len);
	(*v)[*n] = NULL;
}

static void master_strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		xfree(v[i]);
	xfree(v);
}

/* master_tokens - split on blanks; "{ ... }" is one token without its braces. */
static int master_tokens(const char *s, size_t len, char ***out, size_t *n, struct buf *why)
{
	size_t i = 0;

	while (i < len) {
		size_t start, depth = 0;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len)
			break;
		start = i;
		for (; i < len && (depth > 0 || (s[i] != ' ' && s[i] != '\t')); i++) {
			if (s[i] == '{')
				depth++;
			else if (s[i] == '}' && depth-- == 0) {
				buf_printf(why, "unexpected '}'");
				return -1;
			}
		}
		if (depth > 0) {
			buf_printf(why, "missing '}'");
			return -1;
		}
		if (s[start] == '{' && s[i - 1] == '}') {
			const char *in = s + start + 1;
			size_t inlen = i - start - 2;

			cf_trim(&in, &inlen);
			master_strv_push(out, n, in, inlen);
		} else {
			master_strv_push(out, n, s + start, i - start);
		}
	}
	return 0;
}

/* master_fail - record why an entry is refused; always -1. */
static int master_fail(struct buf *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int master_fail(struct buf *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/* master_word_ok - letters, digits and "._-", not starting with '.'. */
static int master_word_ok(const char *s, const char *extra)
{
	if (!*s || *s == '.')
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9')
		    && !strchr("_-.", *s) && !strchr(extra, *s))
			return 0;
	return 1;
}

/* master_port_ok - a port number 1..65535 or a service name. */
static int master_port_ok(const char *p)
{
	int v;

	if (strspn(p, "0123456789") == strlen(p))
		return strnum_int(p, 1, 65535, &v) == 0;
	return master_word_ok(p, "");
}

/* master_inet_name_ok - "port", "host:port" or "[ipv6]:port". */
static int master_inet_name_ok(const char *name)
{
	const char *colon;
	char *host;
	int ok;

	if (name[0] == '[') {
		const char *close = strchr(name, ']');

		if (!close || close[1] != ':' || close == name + 1)
			return 0;
		host = xstrndup(name + 1, (size_t)(close - name - 1));
		ok = strspn(host, "0123456789abcdefABCDEF:.%") == strlen(host) && master_port_ok(close + 2);
		xfree(host);
		return ok;
	}
	colon = strrchr(name, ':');
	if (!colon)
		return master_port_ok(name);
	host = xstrndup(name, (size_t)(colon - name));
	ok = master_word_ok(host, "") && master_port_ok(colon + 1);
	xfree(host);
	return ok;
}

/* master_yn - a y/n/- column; *out keeps its default for '-'. */
static int master_yn(const char *col, int *out)
{
	if (strcmp(col, "-") == 0)
		return 0;
	if (strcmp(col, "y") == 0 || strcmp(col, "n") == 0) {
		*out = col[0] == 'y';
		return 0;
	}
	return -1;
}

/* master_columns - the seven fixed columns after the service name. */
static int master_columns(struct master_ctx *x, struct master_service *sv, char **tok,
			  struct buf *why)
{
	size_t i, wl;

	for (i = 0; master_types[i] && strcmp(master_types[i], tok[1]) != 0; i++)
		;
	if (!master_types[i])
		return master_fail(why, "bad service type \"%.40s\" (expected inet, unix, unix-dgram, fifo or pass)", tok[1]);
	sv->type = xstrdup(tok[1]);
	if (strcmp(sv->type, "inet") == 0 ? !master_inet_name_ok(tok[0]) : !master_word_ok(tok[0], ""))
		return master_fail(why, "bad service name \"%.60s\"", tok[0]);
	sv->private_ = strcmp(sv->type, "inet") != 0;
	sv->unpriv = 1;
	sv->chroot = 1;
	if (master_yn(tok[2], &sv->private_) < 0 || master_yn(tok[3], &sv->unpriv) < 0
	    || master_yn(tok[4], &sv->chroot) < 0)
		return master_fail(why, "private, unpriv and chroot must be y, n or -");
	if (!sv->chroot)
		msg_warn("%s: chroot=n ignored: moat stages are always chrooted", sv->where);
	if (!sv->unpriv)
		msg_warn("%s: unpriv=n ignored: moat stages never run as root", sv->where);
	sv->chroot = sv->unpriv = 1;
	wl = strlen(tok[5]);
	sv->wakeup_if_used = wl > 1 && tok[5][wl - 1] == '?';
	if (sv->wakeup_if_used)
		tok[5][wl - 1] = 0;
	if (strcmp(tok[5], "-") != 0 && strnum_int(tok[5], 0, INT_MAX, &sv->wakeup) < 0)
		return master_fail(why, "bad wakeup time \"%.40s\"", tok[5]);
	sv->maxproc = (int)conf_int(x->c, "default_process_limit");
	if (strcmp(tok[6], "-") != 0 && strnum_int(tok[6], 0, INT_MAX, &sv->maxproc) < 0)
		return master_fail(why, "bad maxproc \"%.40s\"", tok[6]);
	if (!master_word_ok(tok[7], ""))
		return master_fail(why, "bad command \"%.60s\" (a stage name, never a path)", tok[7]);
	sv->command = xstrdup(tok[7]);
	return 0;
}

/* master_override - one -o argument: "name=value" or "name = value". */
static int master_override(struct master_service *sv, size_t *nover, const char *arg,
			   struct buf *why)
{
	size_t n = strcspn(arg, "= \t"), i = n;
	const char *near, *v;
	size_t vlen;
	char *name;
	int r = 0;

	while (arg[i] == ' ' || arg[i] == '\t')
		i++;
	if (n == 0 || arg[i] != '=')
		return master_fail(why, "bad -o \"%.60s\" (expected name=value)", arg);
	v = arg + i + 1;
	vlen = strlen(v);
	cf_trim(&v, &vlen);
	name = xstrndup(arg, n);
	if (!conf_param_lookup(name)) {
		buf_printf(why, "-o: unknown parameter %s", name);
		if ((near = conf_param_nearest(name)) != NULL)
			buf_printf(why, " (did you mean %s?)", near);
		r = -1;
	} else {
		struct buf ov = BUF_INIT;

		buf_printf(&ov, "%s=%.*s", name, (int)vlen, v);
		master_strv_push(&sv->overrides, nover, ov.data, ov.len);
		buf_free(&ov);
	}
	xfree(name);
	return r;
}

/* master_args - what follows the command: -o overrides and other args. */
static int master_args(struct master_service *sv, char **tok, size_t ntok, struct buf *why)
{
	size_t i, nargs = 0, nover = 0;

	sv->args = xcalloc(1, sizeof(char *));
	sv->overrides = xcalloc(1, sizeof(char *));
	for (i = 8; i < ntok; i++) {
		const char *arg = tok[i];

		if (strcmp(arg, "-o") == 0) {
			if (++i == ntok)
				return master_fail(why, "-o without name=value");
			arg = tok[i];
		} else if (strncmp(arg, "-o", 2) == 0) {
			arg += 2;
		} else {
			master_strv_push(&sv->args, &nargs, arg, strlen(arg));
			continue;
		}
		if (master_override(sv, &nover, arg, why) < 0)
			return -1;
	}
	return 0;
}

/* master_check_values - apply the overrides to a copy of c, so that a bad
 * value is refused here with its master.cf line. */
static int master_check_values(const struct master_ctx *x, const struct master_service *sv,
			       struct buf *err)
{
	struct conf *copy;

	if (!x->c || !sv->overrides[0])
		return 0;
	copy = conf_service(x->c, sv, err);
	conf_free(copy);
	return copy ? 0 : -1;
}

/* conf_apply_service - what the broker sets for a running stage, so that
 * $service_name and $process_name expand, then the -o overrides in order. */
int conf_apply_service(struct conf *c, const char *service, const char *command,
		       char *const *overrides, const char *where, struct buf *err)
{
	int r = 0;

	if (conf_set(c, CONF_NAME("service_name"), service, where, err) < 0
	    || conf_set(c, CONF_NAME("process_name"), command, where, err) < 0)
		return -1;
	for (size_t i = 0; r == 0 && overrides && overrides[i]; i++) {
		const char *eq = strchr(overrides[i], '=');
		char *name;

		if (!eq) {
			buf_printf(err, "%s: bad -o override \"%.60s\" (expected name=value)", where,
				   overrides[i]);
			return -1;
		}
		name = xstrndup(overrides[i], (size_t)(eq - overrides[i]));
		r = conf_set(c, name, eq + 1, where, err);
		xfree(name);
	}
	return r;
}

/* conf_service - a copy of c as the stage of sv will read it. */
struct conf *conf_service(const struct conf *c, const struct master_service *sv, struct buf *err)
{
	struct conf *copy = conf_dup(c);

	if (conf_apply_service(copy, sv->name, sv->command, sv->overrides, sv->where, err) < 0) {
		conf_free(copy);
		return NULL;
	}
	return copy;
}

/* master_duplicate - an earlier service with the same name and type. */
static const struct master_service *master_duplicate(const struct master_cf *m,
						     const struct master_service *sv)
{
	size_t i;

	for (i = 0; i < m->nsvc; i++)
		if (strcmp(m->svc[i].name, sv->name) == 0 && strcmp(m->svc[i].type, sv->type) == 0)
			return &m->svc[i];
	return NULL;
}

static void master_service_free(struct master_service *sv)
{
	xfree(sv->name);
	xfree(sv->type);
	xfree(sv->command);
	master_strv_free(sv->args);
	master_strv_free(sv->overrides);
	xfree(sv->where);
}

/* master_parse_entry - one logical master.cf line into a new service. */
static int master_parse_entry(void *ctx, const char *s, size_t len, size_t line,
			      struct buf *err)
{
	struct master_ctx *x = ctx;
	struct master_service sv = { 0 };
	const struct master_service *dup;
	struct buf why = BUF_INIT;
	char **tok = NULL;
	size_t ntok = 0;
	int r = -1;

	buf_printf(&why, "master.cf:%zu", line);
	sv.where = buf_steal(&why);
	buf_init(&why, 0);
	if (master_tokens(s, len, &tok, &ntok, &why) < 0)
		goto out;
	if (ntok < 8) {
		buf_printf(&why, "expected at least 8 fields (service type private unpriv chroot wakeup maxproc command), found %zu", ntok);
		goto out;
	}
	sv.name = xstrdup(tok[0]);
	if (master_columns(x, &sv, tok, &why) < 0 || master_args(&sv, tok, ntok, &why) < 0)
		goto out;
	if ((dup = master_duplicate(x->m, &sv)) != NULL) {
		buf_printf(&why, "service %s/%s is already defined at %s", sv.name, sv.type, dup->where);
		goto out;
	}
	if (master_check_values(x, &sv, err) < 0) {
		master_service_free(&sv);
		master_strv_free(tok);
		buf_free(&why);
		return -1;
	}
	x->m->svc = xreallocarray(x->m->svc, x->m->nsvc + 1, sizeof(sv));
	x->m->svc[x->m->nsvc++] = sv;
	r = 0;
out:
	if (r < 0) {
		buf_printf(err, "%s:%zu: %s", x->filename, line, buf_str(&why));
		master_service_free(&sv);
	}
	master_strv_free(tok);
	buf_free(&why);
	return r;
}

void master_free(struct master_cf *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nsvc; i++)
		master_service_free(&m->svc[i]);
	xfree(m->svc);
	xfree(m);
}

/* master_load_text - parse master.cf text (see conf.h). */
struct master_cf *master_load_text(const char *text, size_t len, const char *filename,
				   const struct conf *c, struct buf *err)
{
	struct master_ctx x = { xcalloc(1, sizeof(struct master_cf)), c, filename };

	buf_reset(err);
	if (len > CONF_FILE_MAX) {
		buf_printf(err, "%s: file is larger than %zu bytes", filename, CONF_FILE_MAX);
	} else if (cf_each_entry(text, len, filename, master_parse_entry, &x, err) == 0) {
		if (x.m->nsvc > 0)
			return x.m;
		buf_printf(err, "%s: no services defined: moat needs at least one service in master.cf",
			   filename);
	}
	master_free(x.m);
	return NULL;
}

/* master_load - read <dir>/master.cf; a missing file is an error. */
struct master_cf *master_load(const char *dir, const struct conf *c, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct master_cf *m = NULL;
	int r;

	buf_printf(&path, "%s/master.cf", dir);
	r = cf_read_file(buf_str(&path), &text, err);
	if (r == 1)
		buf_printf(err, "%s: file not found: moat needs master.cf with at least one service",
			   buf_str(&path));
	else if (r == 0)
		m = master_load_text(buf_str(&text), text.len, buf_str(&path), c, err);
	buf_free(&path);
	buf_free(&text);
	return m;
}

int master_service_disabled(const struct conf *c, const struct master_service *sv)
{
	size_t nlen = strlen(sv->name);

	for (char *const *d = conf_list(c, "master_service_disable"); d && *d; d++) {
		if (strcmp(*d, sv->type) == 0)
			return 1;
		if (strncmp(*d, sv->name, nlen) == 0 && (*d)[nlen] == '/' && strcmp(*d + nlen + 1, sv->type) == 0)
			return 1;
	}
	return 0;
}
