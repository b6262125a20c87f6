/*
 * map_util.c - the pieces every text table type shares: logical lines,
 * "{ ... }" lists, key folding, "key value" lines and $n expansion.
 *
 * Everything here reads text an administrator wrote (or a spec from
 * main.cf) and must refuse what it cannot read with file and line, never
 * guess: a mis-read access table opens or closes the door wrongly.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "lib/strnum.h"
#include "maps/map_impl.h"

#define MAP_BLANKS " \t\r\n\v\f"

void map_text_init(struct map_text *t, const struct buf *text, const char *origin)
{
	t->p = buf_str(text);
	t->end = t->p + text->len;
	t->line = 0;
	t->origin = origin;
}

/* map_text_skip - 1 if the physical line [p, e) is blank or a comment. */
static int map_text_skip(const char *p, const char *e)
{
	while (p < e && strchr(MAP_BLANKS, *p) != NULL)
		p++;
	return p == e || *p == '#';
}

int map_text_next(struct map_text *t, struct buf *line, int *lineno, struct buf *err)
{
	int have = 0;

	buf_reset(line);
	while (t->p < t->end) {
		const char *nl = memchr(t->p, '\n', (size_t)(t->end - t->p));
		const char *e = nl ? nl : t->end;
		int cont = (*t->p == ' ' || *t->p == '\t');

		if (map_text_skip(t->p, e)) {
			t->p = nl ? nl + 1 : t->end;
			t->line++;
			continue;
		}
		if (!cont && have)
			return 1;	/* the next logical line starts here */
		if (cont && !have) {
			buf_printf(err, "%s, line %d: logical line must not start with whitespace",
				   t->origin, t->line + 1);
			return -1;
		}
		if (memchr(t->p, 0, (size_t)(e - t->p)) != NULL) {
			buf_printf(err, "%s, line %d: NUL byte in text", t->origin, t->line + 1);
			return -1;
		}
		if (!have)
			*lineno = t->line + 1;
		if (buf_append(line, t->p, (size_t)(e - t->p)) < 0) {
			buf_printf(err, "%s, line %d: line longer than %zu bytes", t->origin,
				   t->line + 1, MAP_LINE_MAX);
			return -1;
		}
		have = 1;
		t->p = nl ? nl + 1 : t->end;
		t->line++;
	}
	return have;
}

static const char *map_skip_blanks(const char *p)
{
	while (*p && strchr(MAP_BLANKS, *p) != NULL)
		p++;
	return p;
}

/* map_brace_end - the '}' that closes the '{' at p, or NULL. */
static const char *map_brace_end(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

/* map_set_trimmed - [p, e) without blanks at either end into out. */
static void map_set_trimmed(struct buf *out, const char *p, const char *e)
{
	p = map_skip_blanks(p);
	while (e > p && strchr(MAP_BLANKS, e[-1]) != NULL)
		e--;
	(void)buf_set(out, p, (size_t)(e - p));	/* a part of a buffer that fit */
}

int map_braced(const char *name, struct buf *out, struct buf *err)
{
	const char *p = map_skip_blanks(name), *close;

	if (*p != '{')
		return 0;
	if ((close = map_brace_end(p)) == NULL) {
		buf_printf(err, "%s: missing '}'", name);
		return -1;
	}
	if (*map_skip_blanks(close + 1) != 0) {
		buf_printf(err, "%s: text after '}'", name);
		return -1;
	}
	map_set_trimmed(out, p + 1, close);
	return 1;
}

int map_list_next(const char **cursor, struct buf *elem, struct buf *err)
{
	const char *p = *cursor, *start;
	int depth = 0;

	while (*p && (*p == ',' || strchr(MAP_BLANKS, *p) != NULL))
		p++;
	if (*p == 0) {
		*cursor = p;
		return 0;
	}
	for (start = p; *p; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth < 0)
			break;
		else if (depth == 0 && (*p == ',' || strchr(MAP_BLANKS, *p) != NULL))
			break;
	}
	if (depth != 0) {
		buf_printf(err, "%s: unbalanced '{' or '}'", start);
		return -1;
	}
	if (*start == '{' && map_brace_end(start) == p - 1)
		map_set_trimmed(elem, start + 1, p - 1);
	else
		(void)buf_set(elem, start, (size_t)(p - start));
	*cursor = p;
	return 1;
}

const char *map_fold(const char *key, struct buf *out)
{
	size_t n = strlen(key);

	if (buf_set(out, key, n) < 0)
		return key;	/* past the cap: the caller's lookup simply misses */
	for (size_t i = 0; i < n; i++)
		out->data[i] = (char)tolower((unsigned char)out->data[i]);
	return buf_str(out);
}

int map_split_kv(char *line, char **key, char **value)
{
	char *p = line, *e;

	*key = p;
	p += strcspn(p, MAP_BLANKS);
	if (*p == 0)
		return -1;
	*p++ = 0;
	p = (char *)map_skip_blanks(p);
	if (*p == 0)
		return -1;
	e = p + strlen(p);
	while (e > p && strchr(MAP_BLANKS, e[-1]) != NULL)
		*--e = 0;
	*value = p;
	return 0;
}

/*
 * map_ref - parse the reference after a '$' at p: $n, ${n}, $(n). Returns
 * the bytes used after the '$' (0: a lone '$', kept as text), the group
 * in *num; -1 if the reference is not a number.
 */
static int map_ref(const char *p, size_t *num)
{
	const char *s = p, *e;
	char close = 0;
	uint64_t v;

	if (*s == '{')
		close = '}';
	else if (*s == '(')
		close = ')';
	if (close) {
		s++;
		if ((e = strchr(s, close)) == NULL)
			return -1;
	} else {
		for (e = s; isdigit((unsigned char)*e); e++)
			;
		if (e == s)
			return isalpha((unsigned char)*s) || *s == '_' ? -1 : 0;
	}
	if (strnum_u64n(s, (size_t)(e - s), 0, 99, &v) < 0)
		return -1;
	*num = (size_t)v;
	return (int)(e - p) + (close ? 1 : 0);
}

int map_expand_check(const char *result, size_t ngroups, struct buf *err)
{
	for (const char *p = result; (p = strchr(p, '$')) != NULL;) {
		size_t num;
		int used;

		if (p[1] == '$') {
			p += 2;
			continue;
		}
		if ((used = map_ref(p + 1, &num)) < 0) {
			buf_printf(err, "invalid replacement in \"%s\" (use $1, ${1}, $$)", result);
			return -1;
		}
		if (used > 0 && (num == 0 || num > ngroups)) {
			buf_printf(err, "out of range replacement index \"%zu\"", num);
			return -1;
		}
		p += 1 + used;
	}
	return 0;
}

int map_expand(const char *result, const struct map_groups *g, struct buf *out)
{
	buf_reset(out);
	for (const char *p = result; *p;) {
		const char *d = strchr(p, '$');
		size_t num;
		int used;

		if (d == NULL)
			return buf_append_str(out, p);
		if (buf_append(out, p, (size_t)(d - p)) < 0)
			return -1;
		if (d[1] == '$') {
			if (buf_putc(out, '$') < 0)
				return -1;
			p = d + 2;
			continue;
		}
		used = map_ref(d + 1, &num);
		if (used <= 0) {	/* checked at load: a lone '$' */
			if (buf_putc(out, '$') < 0)
				return -1;
			p = d + 1;
			continue;
		}
		if (num < g->n && g->ov[2 * num] != SIZE_MAX &&
		    buf_append(out, g->subject + g->ov[2 * num],
			       g->ov[2 * num + 1] - g->ov[2 * num]) < 0)
			return -1;
		p = d + 1 + used;
	}
	return 0;
}
