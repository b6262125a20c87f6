/*
 * access_action.c - reading one access table or policy service answer (see
 * access_action.h).
 *
 * Called by smtpd for each check_policy_service answer (and for the
 * restriction list of a class lookup). Keywords are case-insensitive, as in
 * Postfix; text after them is kept as written.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mail/access_action.h"

static const struct { const char *word; enum access_kind kind; int needs_text; } access_words[] = {
	{ "OK", ACCESS_OK, 0 }, { "DUNNO", ACCESS_DUNNO, 0 },
	{ "REJECT", ACCESS_REJECT, 0 }, { "DEFER", ACCESS_REJECT, 0 },
	{ "DEFER_IF_PERMIT", ACCESS_DEFER_IF_PERMIT, 0 },
	{ "DEFER_IF_REJECT", ACCESS_DEFER_IF_REJECT, 0 },
	{ "HOLD", ACCESS_HOLD, 0 }, { "DISCARD", ACCESS_DISCARD, 0 },
	{ "PREPEND", ACCESS_PREPEND, 1 }, { "REDIRECT", ACCESS_REDIRECT, 1 },
	{ "BCC", ACCESS_BCC, 1 }, { "WARN", ACCESS_WARN, 0 }, { "INFO", ACCESS_INFO, 0 },
};

size_t access_dsn_len(const char *s)
{
	size_t i = 1, n;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	for (int part = 0; part < 2; part++) {
		if (s[i++] != '.')
			return 0;
		n = strspn(s + i, "0123456789");
		if (n == 0 || n > 3)
			return 0;
		i += n;
	}
	return s[i] == 0 || s[i] == ' ' || s[i] == '\t' ? i : 0;
}

/* access_reply - code, enhanced code (from the text if it starts with one) and text. */
static void access_reply(struct access_action *a, int code, const char *text,
			 const char *fallback)
{
	size_t n = access_dsn_len(text);

	a->code = code;
	if (n > 0 && n < sizeof(a->dsn)) {
		memcpy(a->dsn, text, n);
		a->dsn[n] = 0;
		text += n;
		text += strspn(text, " \t");
	} else {
		strcpy(a->dsn, "5.7.1");
	}
	a->dsn[0] = (char)('0' + code / 100);
	a->text = *text ? text : fallback;
}

/* access_header - PREPEND needs "Name: value" with a printable name. */
static int access_header(const char *h)
{
	size_t n = strcspn(h, ":");

	if (n == 0 || h[n] != ':')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (h[i] <= 32 || h[i] >= 127)
			return 0;
	return 1;
}

/* access_numeric - "4NN text", "5NN text" or all digits; 1 if value was one. */
static int access_numeric(const char *value, size_t wlen, const char *text,
			  struct access_action *a, struct buf *why, int *err)
{
	if (strspn(value, "0123456789") != wlen)
		return 0;
	if (value[wlen] == 0) {
		a->kind = ACCESS_OK;	/* pop-before-smtp style time stamps */
		return 1;
	}
	if (wlen != 3 || (value[0] != '4' && value[0] != '5')) {
		buf_printf(why, "numeric answer \"%.20s\" is neither 4NN nor 5NN", value);
		*err = 1;
		return 1;
	}
	a->kind = ACCESS_REJECT;
	access_reply(a, (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0'),
		     text, "Access denied");
	return 1;
}

static int access_keyword(size_t k, const char *text, const struct access_codes *codes,
			  struct access_action *a, struct buf *why)
{
	a->kind = access_words[k].kind;
	if (access_words[k].needs_text && *text == 0) {
		buf_printf(why, "%s needs %s", access_words[k].word,
			   a->kind == ACCESS_PREPEND ? "a header" : "an address");
		return -1;
	}
	if (a->kind == ACCESS_PREPEND && !access_header(text)) {
		buf_printf(why, "PREPEND needs a header (Name: value), not \"%.60s\"", text);
		return -1;
	}
	if (strcmp(access_words[k].word, "DEFER") == 0)
		access_reply(a, codes->defer, text, "Access denied");
	else if (a->kind == ACCESS_REJECT)
		access_reply(a, codes->reject, text, "Access denied");
	else if (a->kind == ACCESS_DEFER_IF_PERMIT || a->kind == ACCESS_DEFER_IF_REJECT)
		access_reply(a, 450, text, "Service unavailable");
	return 0;
}

int access_action_parse(const char *value, const struct access_codes *codes,
			struct access_action *a, struct buf *why)
{
	size_t wlen;
	const char *text;
	int err = 0;

	memset(a, 0, sizeof(*a));
	value += strspn(value, " \t");
	wlen = strcspn(value, " \t");
	text = value + wlen;
	text += strspn(text, " \t");
	a->text = text;
	if (wlen == 0) {
		buf_append_str(why, "empty answer");
		return -1;
	}
	if (access_numeric(value, wlen, text, a, why, &err))
		return err ? -1 : 0;
	for (size_t k = 0; k < sizeof(access_words) / sizeof(access_words[0]); k++)
		if (strlen(access_words[k].word) == wlen
		    && strncasecmp(value, access_words[k].word, wlen) == 0)
			return access_keyword(k, text, codes, a, why);
	if (wlen == 6 && strncasecmp(value, "FILTER", 6) == 0) {
		buf_append_str(why, "FILTER is not supported: moat has no content filters");
		return -1;
	}
	a->kind = ACCESS_RESTRICTIONS;
	a->text = value;
	return 0;
}
