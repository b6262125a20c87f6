/*
 * map_pattern.c - regexp_table(5)/pcre_table(5)/cidr_table(5) rule files
 * (see map_pattern.h), shared by map_regexp.c, map_pcre.c and map_cidr.c.
 *
 * Stricter than Postfix where Postfix only warns: an unknown flag, a rule
 * without a result, an "endif" without "if", an "if" never closed and a $n
 * past the pattern's groups all refuse the table with file and line, so a
 * header_checks or access table never runs with a rule silently missing.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "lib/msg.h"
#include "lib/xmem.h"
#include "maps/map_pattern.h"

/* Groups a result may use ($1..$99) plus the whole match. */
#define MAP_RE_GROUPS	100

enum map_rule_kind { MAP_RULE_MATCH, MAP_RULE_IF, MAP_RULE_ENDIF };

struct map_rule {
	enum map_rule_kind kind;
	int negate;
	int line;
	void *re;
	char *result;		/* MAP_RULE_MATCH */
	size_t endif;		/* MAP_RULE_IF: index of its endif */
};

struct map_pattern {
	const struct map_re_engine *eng;
	struct map_rule *rule;
	size_t n;
	size_t ov[2 * MAP_RE_GROUPS];
	struct buf err;
};

/*
 * map_pattern_split - "!/re/flags rest" at p: the pattern (without its
 * delimiters, a backslash keeping the next byte), flags and the rest.
 */
static int map_pattern_split(char *p, int *negate, char **re, char **flags, char **rest,
			     struct buf *err)
{
	char delim, *q;

	*negate = (*p == '!');
	if (*negate)
		p++;
	delim = *p;
	if (delim == 0 || isalnum((unsigned char)delim) || isspace((unsigned char)delim) ||
	    delim == '\\') {
		buf_printf(err, "no pattern delimiter (need /pattern/)");
		return -1;
	}
	*re = ++p;
	for (q = p; *q && *q != delim; q++)
		if (*q == '\\' && q[1] != 0)
			q++;
	if (*q != delim) {
		buf_printf(err, "no closing '%c' after the pattern", delim);
		return -1;
	}
	*q++ = 0;
	*flags = q;
	q += strcspn(q, " \t");
	if (*q)
		*q++ = 0;
	*rest = q + strspn(q, " \t");
	return 0;
}

static struct map_rule *map_pattern_push(struct map_pattern *t, enum map_rule_kind kind, int line)
{
	struct map_rule *r;

	t->rule = xreallocarray(t->rule, t->n + 1, sizeof(*t->rule));
	r = &t->rule[t->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->line = line;
	return r;
}

/* map_pattern_rule - one logical line; -1 and err (without file:line). */
static int map_pattern_rule(struct map_pattern *t, char *line, int lineno, size_t **stack,
			    size_t *depth, struct buf *err)
{
	enum map_rule_kind kind = MAP_RULE_MATCH;
	char *re, *flags, *rest;
	struct map_rule *r;
	size_t ngroups;
	int negate;

	if (strncasecmp(line, "endif", 5) == 0 && (line[5] == 0 || isspace((unsigned char)line[5]))) {
		if (*depth == 0) {
			buf_printf(err, "ignoring ENDIF without matching IF");
			return -1;
		}
		t->rule[(*stack)[--*depth]].endif = t->n;
		map_pattern_push(t, MAP_RULE_ENDIF, lineno);
		return 0;
	}
	if (strncasecmp(line, "if", 2) == 0 && isspace((unsigned char)line[2])) {
		kind = MAP_RULE_IF;
		line += 2 + strspn(line + 2, " \t");
	}
	if ((t->eng->split ? t->eng->split : map_pattern_split)(line, &negate, &re, &flags,
								&rest, err) < 0)
		return -1;
	if (kind == MAP_RULE_IF && *rest) {
		buf_printf(err, "text after IF pattern: \"%s\"", rest);
		return -1;
	}
	if (kind == MAP_RULE_MATCH && *rest == 0) {
		buf_printf(err, "no replacement text after the pattern");
		return -1;
	}
	r = map_pattern_push(t, kind, lineno);
	r->negate = negate;
	if ((r->re = t->eng->compile(re, flags, &ngroups, err)) == NULL)
		return -1;
	if (kind == MAP_RULE_IF) {
		*stack = xreallocarray(*stack, *depth + 1, sizeof(**stack));
		(*stack)[(*depth)++] = t->n - 1;
		return 0;
	}
	if (t->eng->expand && map_expand_check(rest, negate ? 0 : ngroups, err) < 0)
		return -1;
	r->result = xstrdup(rest);
	return 0;
}

void map_pattern_close(struct map *m)
{
	struct map_pattern *t = m->priv;

	for (size_t i = 0; i < t->n; i++) {
		if (t->rule[i].re != NULL)
			t->eng->free(t->rule[i].re);
		xfree(t->rule[i].result);
	}
	xfree(t->rule);
	buf_free(&t->err);
	xfree(t);
}

int map_pattern_open(struct map *m, const struct buf *text, const struct map_re_engine *eng,
		     struct buf *err)
{
	struct map_pattern *t = xcalloc(1, sizeof(*t));
	struct buf line = BUF_INIT, why = BUF_INIT;
	size_t *stack = NULL, depth = 0;
	struct map_text in;
	int r, lineno = 0;

	t->eng = eng;
	m->priv = t;
	map_text_init(&in, text, m->origin);
	while ((r = map_text_next(&in, &line, &lineno, err)) > 0)
		if (map_pattern_rule(t, line.data, lineno, &stack, &depth, &why) < 0) {
			buf_printf(err, "%s map %s, line %d: %s", eng->name, m->origin, lineno,
				   buf_str(&why));
			r = -1;
			break;
		}
	if (r == 0 && depth > 0) {
		buf_printf(err, "%s map %s, line %d: IF has no matching ENDIF", eng->name,
			   m->origin, t->rule[stack[depth - 1]].line);
		r = -1;
	}
	xfree(stack);
	buf_free(&line);
	buf_free(&why);
	if (r < 0) {
		map_pattern_close(m);
		m->priv = NULL;
		return -1;
	}
	return 0;
}

enum map_result map_pattern_lookup(struct map *m, const char *key, struct buf *value)
{
	struct map_pattern *t = m->priv;
	struct map_groups g = { key, t->ov, MAP_RE_GROUPS };

	for (size_t i = 0; i < t->n; i++) {
		struct map_rule *r = &t->rule[i];
		int hit;

		if (r->kind == MAP_RULE_ENDIF)
			continue;
		buf_reset(&t->err);
		hit = t->eng->match(r->re, key, t->ov, MAP_RE_GROUPS, &t->err);
		if (hit == MAP_RE_NEVER)
			return MAP_NOTFOUND;
		if (hit < 0) {
			msg_warn("%s map %s, line %d: %s", t->eng->name, m->origin, r->line,
				 buf_str(&t->err));
			return MAP_FAIL;
		}
		if (hit == r->negate) {
			if (r->kind == MAP_RULE_IF)
				i = r->endif;
			continue;
		}
		if (r->kind == MAP_RULE_IF)
			continue;
		if ((t->eng->expand ? map_expand(r->result, &g, value) :
		     buf_set_str(value, r->result)) < 0 || value->len > MAP_VALUE_MAX) {
			msg_warn("%s map %s, line %d: result longer than %zu bytes", t->eng->name,
				 m->origin, r->line, MAP_VALUE_MAX);
			return MAP_FAIL;
		}
		return MAP_FOUND;
	}
	return MAP_NOTFOUND;
}

int map_pattern_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err)
{
	const struct map_pattern *t = m->priv;
	struct buf where = BUF_INIT;
	int r = 0;

	(void)err;
	for (size_t i = 0; i < t->n && r == 0; i++) {
		if (t->rule[i].kind != MAP_RULE_MATCH)
			continue;
		buf_reset(&where);
		(void)buf_printf(&where, "%s, line %d", m->origin, t->rule[i].line);
		r = fn(ctx, buf_str(&where), t->rule[i].result);
	}
	buf_free(&where);
	return r;
}
