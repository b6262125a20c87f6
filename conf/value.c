/*
 * value.c - checking one expanded main.cf value against its parameter's
 * type, and splitting list values into items.
 *
 * Called by conf/expand.c after expansion (so "$foo" in a value is checked
 * as what it becomes). A reason it returns names the bad text but never the
 * file position: the caller adds "main.cf:N: parameter X:". Every number is
 * parsed with lib/strnum; nothing here trusts the value's length or content.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/conf_priv.h"
#include "lib/strnum.h"
#include "lib/xmem.h"

#define CONF_SHOW_MAX 80	/* bytes of a bad value quoted in a reason */

/* The table types moat's lookup stage serves (DESIGN.md section 5). */
static const char *const conf_table_types[] = {
	"hash", "btree", "pcre", "regexp", "cidr", "texthash", "static", "inline", "unionmap",
	"pipemap", NULL,
};

static int conf_is_sep(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == ',';
}

/* conf_list_free - free a NULL-terminated item list. */
void conf_list_free(char **list)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; list[i]; i++)
		xfree(list[i]);
	xfree(list);
}

/* conf_item_push - append a copy of [s, s+n) to a NULL-terminated list. */
static void conf_item_push(char ***list, size_t *n, const char *s, size_t len)
{
	*list = xreallocarray(*list, *n + 2, sizeof(char *));
	(*list)[(*n)++] = xstrndup(s, len);
	(*list)[*n] = NULL;
}

/* conf_token_end - end of the item starting at s: the first separator
 * outside braces. -1 on unbalanced braces. */
static int conf_token_end(const char *s, const char **end, struct buf *why)
{
	size_t depth = 0;

	for (; *s; s++) {
		if (*s == '{') {
			depth++;
		} else if (*s == '}') {
			if (depth == 0) {
				buf_printf(why, "unexpected '}'");
				return -1;
			}
			depth--;
		} else if (depth == 0 && conf_is_sep((unsigned char)*s)) {
			break;
		}
	}
	if (depth > 0) {
		buf_printf(why, "missing '}'");
		return -1;
	}
	*end = s;
	return 0;
}

/* conf_split_list - items separated by commas and/or white space; "{...}"
 * groups text with blanks and commas into one item (inline:{ a=b, c=d }),
 * and an item that is one whole group loses its braces, as in Postfix. */
int conf_split_list(const char *s, char ***out, struct buf *why)
{
	char **list = xcalloc(1, sizeof(char *));
	size_t n = 0;

	for (;;) {
		const char *end;
		size_t len;

		while (*s && conf_is_sep((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (conf_token_end(s, &end, why) < 0) {
			conf_list_free(list);
			return -1;
		}
		len = (size_t)(end - s);
		if (s[0] == '{' && s[len - 1] == '}' && memchr(s + 1, '{', len - 2) == NULL) {
			const char *in = s + 1;
			size_t inlen = len - 2;

			cf_trim(&in, &inlen);
			conf_item_push(&list, &n, in, inlen);
		} else {
			conf_item_push(&list, &n, s, len);
		}
		s = end;
	}
	*out = list;
	return 0;
}

/* conf_word_in - 1 if word is one of the blank-separated choices (any case). */
static int conf_word_in(const char *word, const char *choices)
{
	size_t n = strlen(word);

	while (*choices) {
		size_t m = strcspn(choices, " ");

		if (m == n && strncasecmp(word, choices, n) == 0)
			return 1;
		choices += m;
		choices += strspn(choices, " ");
	}
	return 0;
}

/* conf_check_table - one "type:name" item of a CONF_TABLES value. */
static int conf_check_table(const char *item, struct buf *why)
{
	const char *colon = strchr(item, ':');
	size_t i, tlen;

	if (!colon || colon == item || colon[1] == 0) {
		buf_printf(why, "bad table \"%.*s\" (expected type:name)", CONF_SHOW_MAX, item);
		return -1;
	}
	tlen = (size_t)(colon - item);
	for (i = 0; conf_table_types[i]; i++)
		if (strlen(conf_table_types[i]) == tlen && memcmp(item, conf_table_types[i], tlen) == 0)
			break;
	if (!conf_table_types[i]) {
		buf_printf(why, "table type \"%.*s\" is not supported by moat (supported: hash btree pcre regexp cidr texthash static inline unionmap pipemap)",
			   (int)(tlen < CONF_SHOW_MAX ? tlen : CONF_SHOW_MAX), item);
		return -1;
	}
	if ((strcmp(conf_table_types[i], "inline") == 0 || strcmp(conf_table_types[i], "unionmap") == 0
	     || strcmp(conf_table_types[i], "pipemap") == 0) && colon[1] != '{') {
		buf_printf(why, "bad table \"%.*s\" (expected %s:{ %s, ... })", CONF_SHOW_MAX, item,
			   conf_table_types[i], conf_table_types[i][0] == 'i' ? "key=value" : "type:name");
		return -1;
	}
	return 0;
}

/* conf_parse_time - "<digits>[smhdw]" in seconds, within [min, max]. */
static int conf_parse_time(const struct conf_param_def *d, const char *s, int64_t *out,
			   struct buf *why)
{
	size_t n = strlen(s);
	uint64_t v, mult;
	char unit = d->unit ? d->unit : 's';

	if (n > 1 && strchr("smhdw", s[n - 1])) {
		unit = s[n - 1];
		n--;
	}
	mult = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 604800;
	if (strnum_u64n(s, n, 0, UINT64_MAX, &v) < 0) {
		buf_printf(why, "bad time value \"%.*s\" (expected a number with an optional unit s, m, h, d or w)",
			   CONF_SHOW_MAX, s);
		return -1;
	}
	if (v > (uint64_t)d->max / mult || (int64_t)(v * mult) < d->min) {
		buf_printf(why, "time value \"%.*s\" is out of range (%lld..%lld seconds)", CONF_SHOW_MAX, s,
			   (long long)d->min, (long long)d->max);
		return -1;
	}
	*out = (int64_t)(v * mult);
	return 0;
}

/* conf_parse_bool - yes/no, true/false, 1/0 in any case. */
static int conf_parse_bool(const char *s, int64_t *out, struct buf *why)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	buf_printf(why, "bad boolean value \"%.*s\" (expected yes or no)", CONF_SHOW_MAX, s);
	return -1;
}

/* conf_parse_number - INT and SIZE: decimal digits within [min, max]. */
static int conf_parse_number(const struct conf_param_def *d, const char *s, int64_t *out,
			     struct buf *why)
{
	uint64_t v;

	if (strnum_u64(s, (uint64_t)d->min, (uint64_t)d->max, &v) < 0) {
		buf_printf(why, "bad %s value \"%.*s\" (expected a number from %lld to %lld)",
			   d->type == CONF_SIZE ? "size" : "integer", CONF_SHOW_MAX, s,
			   (long long)d->min, (long long)d->max);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

/* conf_check_items - LIST choices and TABLES syntax, item by item. */
static int conf_check_items(const struct conf_param_def *d, char **list, struct buf *why)
{
	size_t i;

	for (i = 0; list[i]; i++) {
		if (d->type == CONF_TABLES && conf_check_table(list[i], why) < 0)
			return -1;
		if (d->type == CONF_LIST && d->choices && !conf_word_in(list[i], d->choices)) {
			buf_printf(why, "bad item \"%.*s\" (expected any of: %s)", CONF_SHOW_MAX, list[i],
				   d->choices);
			return -1;
		}
	}
	return 0;
}

/* conf_value_check - check v->value for d; fill v->num or v->list. */
int conf_value_check(const struct conf_param_def *d, struct conf_val *v, struct buf *why)
{
	const char *s = v->value;
	size_t n = strlen(s);
	char *t;
	int r = 0;

	cf_trim(&s, &n);
	t = xstrndup(s, n);
	switch (d->type) {
	case CONF_STR:
		/* An empty default is a value of its own (smtp_tls_security_level:
		 * "ask the obsolete parameters"), allowed again when set. */
		if (d->choices && !(n == 0 && d->defval[0] == 0) && !conf_word_in(t, d->choices)) {
			buf_printf(why, "bad value \"%.*s\" (expected one of: %s)", CONF_SHOW_MAX, t, d->choices);
			r = -1;
		}
		break;
	case CONF_BOOL:
		r = conf_parse_bool(t, &v->num, why);
		break;
	case CONF_INT:
	case CONF_SIZE:
		r = conf_parse_number(d, t, &v->num, why);
		break;
	case CONF_TIME:
		r = conf_parse_time(d, t, &v->num, why);
		break;
	case CONF_LIST:
	case CONF_TABLES:
		r = conf_split_list(t, &v->list, why);
		if (r == 0)
			r = conf_check_items(d, v->list, why);
		break;
	}
	xfree(t);
	return r;
}

/* conf_value_safe - 1 if v->value asks for nothing moat lacks: empty, a
 * boolean that says no, or (every item) one of d's choices. */
int conf_value_safe(const struct conf_param_def *d, struct conf_val *v)
{
	struct buf why = BUF_INIT;
	const char *s = v->value;
	size_t n = strlen(s), i;
	char *t;
	int safe = 0;

	cf_trim(&s, &n);
	if (n == 0)
		return 1;
	t = xstrndup(s, n);
	if (d->type == CONF_BOOL) {
		safe = conf_parse_bool(t, &v->num, &why) == 0 && v->num == 0;
	} else if (d->choices) {
		conf_list_free(v->list);
		v->list = NULL;
		if (conf_split_list(t, &v->list, &why) == 0)
			for (i = 0, safe = 1; v->list[i]; i++)
				safe &= conf_word_in(v->list[i], d->choices);
	}
	xfree(t);
	buf_free(&why);
	return safe;
}
