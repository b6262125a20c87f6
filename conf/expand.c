/*
 * expand.c - $name expansion and whole-configuration validation.
 *
 * main.cf values may refer to other parameters as $name, ${name}, $(name),
 * ${name?text} (text if name is non-empty) and ${name:text} (text if name is
 * empty), and in Postfix 3's braced forms ${name?{text}}, ${name:{text}} and
 * ${name?{text1}:{text2}} (text1 if name is non-empty, else text2). The
 * last is how Postfix writes stress-dependent defaults:
 * smtpd_timeout = ${stress?{10}:{300}}s, where "stress" is a parameter that
 * is empty unless the screen stage asks for the stress values (it reads the
 * configuration once more with stress = yes). conf_resolve expands every value once (memoised, so a chain of
 * references costs linear time, never exponential) and checks it against its
 * type; conf/maincf.c calls it after parsing and after each override.
 *
 * Must never recurse without bound on hostile input: a loop is detected
 * through the "busy" state and reported with its path, nesting is capped at
 * CONF_EXPAND_DEPTH, and an expanded value is capped at CONF_EXPAND_MAX.
 */
#include <ctype.h>
#include <string.h>

#include "conf/conf_priv.h"
#include "lib/msg.h"
#include "lib/xmem.h"

#define CONF_EXPAND_DEPTH	64
#define CONF_EXPAND_MAX		((size_t)1 << 20)

/* The chain of names being expanded, for loop reports. */
struct conf_path {
	const char *name[CONF_EXPAND_DEPTH];
	struct conf_val *val[CONF_EXPAND_DEPTH];
	size_t n;
};

/* What one expansion run needs besides the text. */
struct conf_exp {
	struct conf *c;
	int readonly;		/* conf_expand on a const conf: touch nothing */
	int located;		/* err already says where and which parameter */
	size_t nest;		/* ${name?...} nesting inside one value */
	struct conf_path path;
	struct buf *err;
};

static int conf_expand_text(struct conf_exp *x, const char *s, size_t len, struct buf *out);

static int conf_name_char(int ch)
{
	return isalnum(ch) || ch == '_';
}

/* conf_default_raw - the unexpanded default of table entry i. */
const char *conf_default_raw(const struct conf *c, size_t i)
{
	if (conf_params[i].flags & CONF_F_DYNAMIC) {
		if (strcmp(conf_params[i].name, "myhostname") == 0)
			return c->hostname;
		if (strcmp(conf_params[i].name, "mydomain") == 0)
			return c->domain;
	}
	return conf_params[i].defval;
}

/* conf_where - "main.cf:12" of a value, or the file for a default. */
static const char *conf_val_where(const struct conf *c, const struct conf_val *v)
{
	return v->where ? v->where : c->filename;
}

/* conf_cache_drop - forget v's expansion. Pointers handed out to callers
 * stay valid until conf_free: they go to the graveyard, not to free(). */
void conf_cache_drop(struct conf *c, struct conf_val *v)
{
	if (v->value || v->list) {
		/* Doubling (the size is a power of two once past 64): every conf_set
		 * drops every value, and growing by two made the copying quadratic. */
		if (c->ngrave == 0 || (c->ngrave >= 64 && (c->ngrave & (c->ngrave - 1)) == 0))
			c->graveyard = xreallocarray(c->graveyard, c->ngrave ? c->ngrave * 2 : 64,
						     sizeof(void *));
		c->graveyard[c->ngrave++] = v->value;
		c->graveyard[c->ngrave++] = v->list;
	}
	v->value = NULL;
	v->list = NULL;
	v->num = 0;
	v->state = CONF_ST_TODO;
}

/* conf_loop_report - "where: parameter X: expansion loop: X -> Y -> X". */
static void conf_loop_report(struct conf_exp *x, const char *name, struct conf_val *v)
{
	size_t i = 0, j;

	while (i < x->path.n && x->path.val[i] != v)
		i++;
	buf_printf(x->err, "%s: parameter %s: expansion loop: ", conf_val_where(x->c, v), name);
	for (j = i; j < x->path.n; j++)
		buf_printf(x->err, "%s -> ", x->path.name[j]);
	buf_printf(x->err, "%s", name);
}

/* conf_locate - put "where: parameter name: " in front of a bare reason. */
static void conf_locate(struct conf_exp *x, const char *name, const struct conf_val *v)
{
	struct buf full = BUF_INIT;

	if (x->located)
		return;
	buf_printf(&full, "%s: parameter %s: %s", conf_val_where(x->c, v), name, buf_str(x->err));
	buf_set(x->err, full.data, full.len);
	buf_free(&full);
	x->located = 1;
}

/* conf_val_expand - expand one value (memoised); its text in *res. */
static int conf_val_expand(struct conf_exp *x, const char *name, struct conf_val *v,
			   const char *raw, const char **res)
{
	struct buf out;

	if (v->state == CONF_ST_DONE) {
		*res = v->value;
		return 0;
	}
	if (x->readonly) {	/* only after conf_resolve: everything is done */
		*res = "";
		return 0;
	}
	if (v->state == CONF_ST_BUSY) {
		conf_loop_report(x, name, v);
		x->located = 1;
		return -1;
	}
	if (x->path.n >= CONF_EXPAND_DEPTH) {
		buf_printf(x->err, "%s: parameter %s: expansion nested too deeply", conf_val_where(x->c, v), name);
		x->located = 1;
		return -1;
	}
	x->path.name[x->path.n] = name;
	x->path.val[x->path.n++] = v;
	v->state = CONF_ST_BUSY;
	buf_init(&out, CONF_EXPAND_MAX);
	if (conf_expand_text(x, raw, strlen(raw), &out) < 0) {
		conf_locate(x, name, v);
		buf_free(&out);
		v->state = CONF_ST_TODO;
		x->path.n--;
		return -1;
	}
	x->path.n--;
	v->value = out.data ? buf_steal(&out) : xstrdup("");
	v->state = CONF_ST_DONE;
	*res = v->value;
	return 0;
}

/* conf_undefined_warn - once per name: $name refers to nothing. */
static void conf_undefined_warn(struct conf_exp *x, const char *name)
{
	struct conf *c = x->c;
	struct conf_val *by = x->path.n ? x->path.val[x->path.n - 1] : NULL;
	size_t i;

	if (x->readonly)
		return;
	for (i = 0; i < c->nwarned; i++)
		if (strcmp(c->warned[i], name) == 0)
			return;
	c->warned = xreallocarray(c->warned, c->nwarned + 1, sizeof(char *));
	c->warned[c->nwarned++] = xstrdup(name);
	msg_warn("%s: parameter %s: $%s is not defined; it expands to nothing",
		 by ? conf_val_where(c, by) : c->filename, by ? x->path.name[x->path.n - 1] : "?", name);
}

/* conf_name_value - the expanded value of name ("" if undefined). */
static int conf_name_value(struct conf_exp *x, const char *name, const char **res)
{
	size_t i = conf_param_index(name);
	struct conf_extra *e;

	if (i != (size_t)-1) {
		struct conf_val *v = &x->c->vals[i];

		return conf_val_expand(x, conf_params[i].name, v, v->raw ? v->raw : conf_default_raw(x->c, i), res);
	}
	e = conf_extra_find(x->c, name);
	if (!e) {
		conf_undefined_warn(x, name);
		*res = "";
		return 0;
	}
	if (!x->readonly)
		e->v.used = 1;
	return conf_val_expand(x, e->name, &e->v, e->v.raw, res);
}

/* conf_macro_close - index of the bracket closing one opened before s[0]
 * (nested brackets of the same kind count), or len if none. */
static size_t conf_macro_close(const char *s, size_t len, char open, char close)
{
	size_t i, depth = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == open)
			depth++;
		else if (s[i] == close && depth-- == 0)
			return i;
	}
	return len;
}

/* conf_blanks - the index of the first non-blank at or after i (len if none). */
static size_t conf_blanks(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * conf_braced_choice - the text to expand for "?{a}:{b}", "?{a}" or ":{b}"
 * (s[0..len) is what follows ? or :, starting with '{'); on is 1 when the
 * first branch applies. *t, *tlen get it (empty when no branch applies).
 */
static int conf_braced_choice(struct conf_exp *x, const char *s, size_t len, int question,
			      int on, const char **t, size_t *tlen)
{
	size_t end1 = 1 + conf_macro_close(s + 1, len - 1, '{', '}'), i, end2;

	*t = "";
	*tlen = 0;
	if (end1 >= len)
		goto bad;
	i = conf_blanks(s, end1 + 1, len);
	if (i == len) {		/* ?{a} or :{b} */
		if (on) {
			*t = s + 1;
			*tlen = end1 - 1;
		}
		return 0;
	}
	if (!question || s[i] != ':' || (i = conf_blanks(s, i + 1, len)) == len || s[i] != '{')
		goto bad;
	end2 = i + 1 + conf_macro_close(s + i + 1, len - i - 1, '{', '}');
	if (end2 >= len || conf_blanks(s, end2 + 1, len) != len)
		goto bad;
	*t = on ? s + 1 : s + i + 1;
	*tlen = on ? end1 - 1 : end2 - i - 1;
	return 0;
bad:
	buf_printf(x->err, "bad macro: expected {text} or {text}:{text} after \"%c\" in \"%.*s\"",
		   question ? '?' : ':', (int)(len < 60 ? len : 60), s);
	return -1;
}

/* conf_expand_braced - "${name}", "${name?text}", "${name:text}" (or with
 * parentheses), and the {text} forms; s points after the opening bracket. */
static int conf_expand_braced(struct conf_exp *x, const char *s, size_t len, char open,
			      struct buf *out, size_t *used)
{
	char close = open == '{' ? '}' : ')';
	size_t end = conf_macro_close(s, len, open, close), n = 0, i, tlen;
	const char *val, *text;
	char *name;
	int r;

	if (end == len) {
		buf_printf(x->err, "missing '%c' after \"$%c\"", close, open);
		return -1;
	}
	while (n < end && conf_name_char((unsigned char)s[n]))
		n++;
	if (n == 0 || (n < end && s[n] != '?' && s[n] != ':')) {
		buf_printf(x->err, "bad macro \"$%c%.*s%c\"", open, (int)(end < 60 ? end : 60), s, close);
		return -1;
	}
	*used = 1 + end + 1;	/* the brackets and what they hold */
	name = xstrndup(s, n);
	r = conf_name_value(x, name, &val);
	xfree(name);
	if (r < 0)
		return -1;
	if (n == end)
		return buf_append_str(out, val);
	text = s + n + 1;
	tlen = end - n - 1;
	if (open == '{' && (i = conf_blanks(s, n + 1, end)) < end && s[i] == '{') {
		if (conf_braced_choice(x, s + i, end - i, s[n] == '?', (s[n] == '?') == (*val != 0),
				       &text, &tlen) < 0)
			return -1;
	} else if ((s[n] == '?') != (*val != 0)) {
		return 0;
	}
	if (++x->nest > CONF_EXPAND_DEPTH) {
		buf_printf(x->err, "macros nested too deeply");
		return -1;
	}
	r = conf_expand_text(x, text, tlen, out);
	x->nest--;
	return r;
}

/* conf_expand_one - the macro at s (just after '$'); *used gets its length. */
static int conf_expand_one(struct conf_exp *x, const char *s, size_t len, struct buf *out,
			   size_t *used)
{
	size_t n = 0;
	const char *val;
	char *name;
	int r;

	if (len > 0 && (s[0] == '{' || s[0] == '('))
		return conf_expand_braced(x, s + 1, len - 1, s[0], out, used);
	while (n < len && conf_name_char((unsigned char)s[n]))
		n++;
	*used = n;
	if (n == 0)
		return buf_putc(out, '$');
	name = xstrndup(s, n);
	r = conf_name_value(x, name, &val);
	xfree(name);
	return r < 0 ? -1 : buf_append_str(out, val);
}

/* conf_expand_text - expand [s, s+len) onto out. */
static int conf_expand_text(struct conf_exp *x, const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *dollar = memchr(s + i, '$', len - i);
		size_t lit = dollar ? (size_t)(dollar - (s + i)) : len - i, used;

		if (buf_append(out, s + i, lit) < 0)
			goto toolong;
		i += lit;
		if (!dollar)
			break;
		i++;
		if (conf_expand_one(x, s + i, len - i, out, &used) < 0) {
			if (x->err->len == 0)
				goto toolong;
			return -1;
		}
		i += used;
	}
	return 0;
toolong:
	buf_printf(x->err, "expanded value is longer than %zu bytes", CONF_EXPAND_MAX);
	return -1;
}

/* conf_domain_of - mydomain's default: myhostname minus its first label. */
static void conf_domain_update(struct conf *c, const char *host)
{
	const char *dot = strchr(host, '.');

	xfree(c->domain);
	c->domain = xstrdup(dot && dot[1] ? dot + 1 : "localdomain");
}

/* conf_drop_all - forget every expansion (a new round is about to start). */
static void conf_drop_all(struct conf *c)
{
	size_t i;

	for (i = 0; i < conf_nparams; i++)
		conf_cache_drop(c, &c->vals[i]);
	for (i = 0; i < c->nextra; i++)
		conf_cache_drop(c, &c->extra[i].v);
}

/*
 * conf_failclosed - an unimplemented parameter whose value asks for a
 * protection moat cannot give stops the load: running without a content
 * check, a TLS requirement or a table the administrator wrote would be
 * weaker than the file says. Its value is expanded (a $macro may hide what
 * it asks for) only to be judged, never used.
 */
static int conf_failclosed(struct conf_exp *x, const struct conf_param_def *d,
			   const struct conf_val *v)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct conf_val tmp = { 0 };
	int safe;

	buf_init(&out, CONF_EXPAND_MAX);
	if (conf_expand_text(x, v->raw, strlen(v->raw), &out) < 0) {
		conf_locate(x, d->name, v);
		buf_free(&out);
		return -1;
	}
	tmp.value = out.data ? buf_steal(&out) : xstrdup("");
	/* a syntax error is named as such; choices are the safe values here */
	if (!d->choices && conf_value_check(d, &tmp, &why) < 0) {
		buf_printf(x->err, "%s: parameter %s: %s", conf_val_where(x->c, v), d->name, buf_str(&why));
		safe = 0;
	} else if (!(safe = conf_value_safe(d, &tmp))) {
		buf_printf(x->err, "%s: parameter %s = %.80s: not implemented by moat, and moat will "
			   "not run without what it asks for (%s); remove it or set it to a value "
			   "that asks for nothing", conf_val_where(x->c, v), d->name, tmp.value, d->doc);
	}
	xfree(tmp.value);
	conf_list_free(tmp.list);
	buf_free(&why);
	return safe ? 0 : -1;
}

/* conf_resolve_one - expand and check table entry i. */
static int conf_resolve_one(struct conf_exp *x, size_t i)
{
	const struct conf_param_def *d = &conf_params[i];
	struct conf_val *v = &x->c->vals[i];
	struct buf why = BUF_INIT;
	const char *raw = v->raw ? v->raw : conf_default_raw(x->c, i);
	const char *res;

	if (d->flags & CONF_F_UNIMPLEMENTED) {
		/* Ignored by moat: what main.cf says stays in raw for moatconf;
		 * readers get the default, unexpanded, parsed if it parses. */
		if (v->state != CONF_ST_DONE) {
			v->value = xstrdup(conf_default_raw(x->c, i));
			v->state = CONF_ST_DONE;
		}
		if (conf_value_check(d, v, &why) < 0) {
			conf_list_free(v->list);
			v->list = xcalloc(1, sizeof(char *));
			v->num = 0;
		}
		buf_free(&why);
		if ((d->flags & CONF_F_FAILCLOSED) && v->origin != CONF_FROM_DEFAULT)
			return conf_failclosed(x, d, v);
		return 0;
	}
	if (d->flags & CONF_F_RAW) {
		if (v->state != CONF_ST_DONE) {
			v->value = xstrdup(raw);
			v->state = CONF_ST_DONE;
		}
	} else if (conf_val_expand(x, d->name, v, raw, &res) < 0) {
		return -1;
	}
	if (conf_value_check(d, v, &why) == 0) {
		buf_free(&why);
		return 0;
	}
	buf_printf(x->err, "%s: parameter %s: %s", conf_val_where(x->c, v), d->name, buf_str(&why));
	buf_free(&why);
	return -1;
}

/* conf_resolve_extras - expand the names main.cf defines that the table
 * does not know, so that conf_expand can read them later. Their "used" marks
 * must only reflect references from real parameters, and a broken macro that
 * nothing uses is not an error (Postfix only complains when it is used). */
static void conf_resolve_extras(struct conf_exp *x)
{
	struct conf *c = x->c;
	int *used = xcalloc(c->nextra + 1, sizeof(int));
	const char *res;
	size_t i;

	for (i = 0; i < c->nextra; i++)
		used[i] = c->extra[i].v.used;
	for (i = 0; i < c->nextra; i++) {
		struct conf_val *v = &c->extra[i].v;

		buf_reset(x->err);
		x->located = 0;
		x->path.n = 0;
		x->nest = 0;
		if (conf_val_expand(x, c->extra[i].name, v, v->raw, &res) < 0) {
			conf_cache_drop(c, v);
			v->value = xstrdup("");
			v->state = CONF_ST_DONE;
		}
	}
	for (i = 0; i < c->nextra; i++)
		c->extra[i].v.used = used[i];
	xfree(used);
	buf_reset(x->err);
}

/* conf_resolve - expand and check every value; first error in err. */
int conf_resolve(struct conf *c, struct buf *err)
{
	struct conf_exp x = { .c = c, .err = err };
	size_t i, host = conf_param_index("myhostname");
	const char *res;

	buf_reset(err);
	/* mydomain's default derives from the effective myhostname. */
	conf_drop_all(c);
	if (conf_val_expand(&x, "myhostname", &c->vals[host],
			    c->vals[host].raw ? c->vals[host].raw : c->hostname, &res) < 0)
		return -1;
	conf_domain_update(c, res);
	conf_drop_all(c);
	for (i = 0; i < c->nextra; i++)
		c->extra[i].v.used = 0;
	for (i = 0; i < conf_nparams; i++) {
		x.path.n = 0;
		x.nest = 0;
		x.located = 0;
		if (conf_resolve_one(&x, i) < 0)
			return -1;
	}
	conf_resolve_extras(&x);
	return 0;
}

/* conf_stress_copy - c as it reads under stress; NULL when c forces stress itself. */
struct conf *conf_stress_copy(const struct conf *c, struct buf *err)
{
	struct conf *d;

	if (conf_is_set(c, "stress"))
		return NULL;
	d = conf_dup(c);
	if (conf_set(d, "stress", "yes", "stress = yes", err) < 0) {
		conf_free(d);
		return NULL;
	}
	return d;
}

/* conf_expand - expand text against a resolved configuration. */
int conf_expand(const struct conf *c, const char *text, struct buf *out, struct buf *err)
{
	/* readonly: every value is already expanded, nothing is written to c. */
	struct conf_exp x = { .c = (struct conf *)c, .readonly = 1, .err = err };

	buf_reset(err);
	if (conf_expand_text(&x, text, strlen(text), out) < 0) {
		if (err->len == 0)
			buf_printf(err, "expanded value is too long");
		return -1;
	}
	return 0;
}
