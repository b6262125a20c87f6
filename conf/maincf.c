/*
 * maincf.c - reading main.cf into a struct conf, and -o overrides.
 *
 * Called by the broker at start-up (conf_load), by moatconf, and through
 * conf_set by whoever applies master.cf -o overrides. Syntax is Postfix's:
 * "name = value" starting in column 1, blanks around '=' optional, '#'
 * comment lines, blank lines, and lines starting with white space continue
 * the entry before them. Later definitions override earlier ones.
 *
 * This file must never accept a bad value silently: a syntax error or a
 * value its parameter's type refuses stops the load with "file:line:".
 * Unknown and unimplemented names are warnings, never silent. Line content
 * lives only in struct buf; the file is capped at CONF_FILE_MAX bytes.
 */
#include <string.h>
#include <unistd.h>

#include "conf/conf_priv.h"
#include "lib/msg.h"
#include "lib/xmem.h"

/* conf_new - an empty configuration (all defaults) named after filename. */
struct conf *conf_new(const char *filename)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	char host[256 + 1];	/* filled by the kernel, not by a peer */
	const char *dot;

	c->filename = xstrdup(filename);
	c->vals = xcalloc(conf_nparams, sizeof(*c->vals));
	memset(host, 0, sizeof(host));
	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0)
		msg_fatal("gethostname: %m");
	c->hostname = xstrdup(host);
	dot = strchr(host, '.');
	c->domain = xstrdup(dot && dot[1] ? dot + 1 : "localdomain");
	return c;
}

/* conf_val_set - give v a new raw value (copies). */
void conf_val_set(struct conf_val *v, const char *raw, enum conf_origin origin, const char *where)
{
	xfree(v->raw);
	xfree(v->where);
	v->raw = raw ? xstrdup(raw) : NULL;
	v->where = where ? xstrdup(where) : NULL;
	v->origin = origin;
}

/* conf_warn_ignored - the one warning for a parameter moat does not implement. */
void conf_warn_ignored(const char *where, const char *name)
{
	msg_warn("%s: parameter %s is not implemented by moat; ignored", where, name);
}

/* conf_extra_find - a name main.cf defines that the table does not know. */
struct conf_extra *conf_extra_find(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nextra; i++)
		if (strcmp(c->extra[i].name, name) == 0)
			return &c->extra[i];
	return NULL;
}

/* conf_unknown_text - "unknown parameter X (did you mean Y?)". */
static void conf_unknown_text(struct buf *b, const char *name)
{
	const char *near = conf_param_nearest(name);

	buf_printf(b, "unknown parameter %s", name);
	if (near)
		buf_printf(b, " (did you mean %s?)", near);
}

/* conf_store - record one "name = value" seen at where. */
static void conf_store(struct conf *c, const char *name, const char *value, const char *where)
{
	size_t i = conf_param_index(name);
	struct conf_extra *e;

	if (i != (size_t)-1) {
		conf_val_set(&c->vals[i], value, CONF_FROM_MAINCF, where);
		return;
	}
	e = conf_extra_find(c, name);
	if (!e) {
		c->extra = xreallocarray(c->extra, c->nextra + 1, sizeof(*c->extra));
		e = &c->extra[c->nextra++];
		memset(e, 0, sizeof(*e));
		e->name = xstrdup(name);
	}
	conf_val_set(&e->v, value, CONF_FROM_MAINCF, where);
}

/* conf_parse_entry - one logical line "name = value" (line = its first line). */
static int conf_parse_entry(struct conf *c, const char *s, size_t len, size_t line,
			    struct buf *err)
{
	size_t n = 0, i;
	struct buf where = BUF_INIT;
	char *name, *value;
	const char *v;
	size_t vlen;

	while (n < len && (s[n] == '_' || (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')
			   || (s[n] >= '0' && s[n] <= '9')))
		n++;
	i = n;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n == 0 || i == len || s[i] != '=') {
		buf_printf(err, "%s:%zu: syntax error: expected \"name = value\"", c->filename, line);
		return -1;
	}
	v = s + i + 1;
	vlen = len - i - 1;
	cf_trim(&v, &vlen);
	name = xstrndup(s, n);
	value = xstrndup(v, vlen);
	buf_printf(&where, "%s:%zu", c->filename, line);
	conf_store(c, name, value, buf_str(&where));
	buf_free(&where);
	xfree(name);
	xfree(value);
	return 0;
}

/* conf_entry_cb - cf_each_entry callback: one main.cf entry. */
static int conf_entry_cb(void *ctx, const char *s, size_t len, size_t line, struct buf *err)
{
	return conf_parse_entry(ctx, s, len, line, err);
}

/* conf_parse_text - store every entry of a main.cf text. */
int conf_parse_text(struct conf *c, const char *text, size_t len, struct buf *err)
{
	return cf_each_entry(text, len, c->filename, conf_entry_cb, c, err);
}

/* conf_warn_unknown - names main.cf sets that moat does not know and that no
 * value refers to: most likely typos, so name the nearest known parameter. */
static void conf_warn_unknown(const struct conf *c)
{
	struct buf text = BUF_INIT;
	size_t i;

	for (i = 0; i < c->nextra; i++) {
		if (c->extra[i].v.used)
			continue;
		buf_reset(&text);
		conf_unknown_text(&text, c->extra[i].name);
		msg_warn("%s: %s", c->extra[i].v.where, buf_str(&text));
	}
	buf_free(&text);
}

/* conf_warn_unimplemented - once per load, after the values passed (a
 * fail-closed one that asks for something has stopped the load instead). */
static void conf_warn_unimplemented(const struct conf *c)
{
	for (size_t i = 0; i < conf_nparams; i++)
		if ((conf_params[i].flags & CONF_F_UNIMPLEMENTED) && c->vals[i].origin == CONF_FROM_MAINCF)
			conf_warn_ignored(c->vals[i].where, conf_params[i].name);
}

/* conf_mark_refs - mark the unknown names that text (master.cf) refers to
 * as $name, ${name} or $(name): they are macros for -o values, not typos. */
static void conf_mark_refs(struct conf *c, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while ((p = memchr(p, '$', (size_t)(end - p))) != NULL) {
		const char *q = ++p;
		struct conf_extra *e;
		char *name;

		if (q < end && (*q == '{' || *q == '('))
			q++;
		p = q;
		while (p < end && (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
				   || (*p >= '0' && *p <= '9')))
			p++;
		if (p == q)
			continue;
		name = xstrndup(q, (size_t)(p - q));
		if ((e = conf_extra_find(c, name)) != NULL)
			e->v.used = 1;
		xfree(name);
	}
}

/* conf_mark_classes - the restriction classes main.cf defines are no typos. */
static void conf_mark_classes(struct conf *c)
{
	char *const *names = conf_list(c, "smtpd_restriction_classes");
	struct conf_extra *e;

	for (size_t i = 0; names && names[i]; i++)
		if ((e = conf_extra_find(c, names[i])) != NULL)
			e->v.used = 1;
}

/* conf_load_mem - parse and resolve text; refs is master.cf text (or NULL)
 * whose $name references count as uses of main.cf macros. */
static struct conf *conf_load_mem(const char *text, size_t len, const char *filename,
				  const struct buf *refs, struct buf *err)
{
	struct conf *c;

	buf_reset(err);
	if (len > CONF_FILE_MAX) {
		buf_printf(err, "%s: file is larger than %zu bytes", filename, CONF_FILE_MAX);
		return NULL;
	}
	c = conf_new(filename);
	if (conf_parse_text(c, text, len, err) < 0 || conf_resolve(c, err) < 0) {
		conf_free(c);
		return NULL;
	}
	if (refs)
		conf_mark_refs(c, buf_str(refs), refs->len);
	conf_mark_classes(c);
	conf_warn_unimplemented(c);
	conf_warn_unknown(c);
	return c;
}

/* conf_load_text - parse main.cf text from memory (see conf.h). */
struct conf *conf_load_text(const char *text, size_t len, const char *filename, struct buf *err)
{
	return conf_load_mem(text, len, filename, NULL, err);
}

/* conf_load_with_master - parse main.cf text for dir; master.cf is read too
 * (if it can be) only to see which macros it uses. conf_editv checks its
 * new text through here. */
struct conf *conf_load_with_master(const char *dir, const char *text, size_t len,
				   const char *filename, struct buf *err)
{
	struct buf path = BUF_INIT, master = BUF_INIT, ignored = BUF_INIT;
	struct conf *c;

	buf_printf(&path, "%s/master.cf", dir);
	if (cf_read_file(buf_str(&path), &master, &ignored) != 0)
		buf_reset(&master);
	c = conf_load_mem(text, len, filename, &master, err);
	buf_free(&path);
	buf_free(&master);
	buf_free(&ignored);
	return c;
}

/* conf_load - read <dir>/main.cf; a missing file means all defaults. */
struct conf *conf_load(const char *dir, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct conf *c = NULL;

	buf_printf(&path, "%s/main.cf", dir);
	if (cf_read_file(buf_str(&path), &text, err) >= 0)
		c = conf_load_with_master(dir, buf_str(&text), text.len, buf_str(&path), err);
	if (c)
		c->dir = xstrdup(dir);
	buf_free(&path);
	buf_free(&text);
	return c;
}
