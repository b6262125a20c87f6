/*
 * header.c - header field name matching and unfolding (see header.h).
 *
 * Called by the cleanup stage on every header a client sends, by bounce on
 * the original message's headers, and by the header fuzz target. Every loop
 * is bounded by the length passed in; no input can make these read past it.
 */
#include <string.h>
#include <strings.h>

#include "mail/header.h"

size_t header_name_len(const char *raw, size_t len, size_t *colon)
{
	size_t i = 0, name;

	while (i < len && header_name_char((unsigned char)raw[i]))
		i++;
	if (i == 0)
		return 0;
	name = i;
	/* RFC 5322 4.5.3 (obsolete syntax): white space before the colon. */
	while (i < len && (raw[i] == ' ' || raw[i] == '\t'))
		i++;
	if (i >= len || raw[i] != ':')
		return 0;
	if (colon)
		*colon = i;
	return name;
}

int header_is_name(const char *raw, size_t len, const char *name)
{
	size_t n = header_name_len(raw, len, NULL);

	return n > 0 && n == strlen(name) && strncasecmp(raw, name, n) == 0;
}

int header_unfold(struct buf *out, const char *raw, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - raw) : len;
		size_t text = end;

		if (text > i && raw[text - 1] == '\r')
			text--;
		if (buf_append(out, raw + i, text - i) < 0)
			return -1;
		i = nl ? end + 1 : len;
		/* A line break not followed by WSP ends the field: stop there. */
		if (i < len && raw[i] != ' ' && raw[i] != '\t')
			break;
	}
	return 0;
}

int header_value(struct buf *out, const char *raw, size_t len)
{
	size_t colon, start = out->len;

	if (header_name_len(raw, len, &colon) == 0)
		return -1;
	if (header_unfold(out, raw + colon + 1, len - colon - 1) < 0)
		return -1;
	/* Trim white space on both ends of what was appended. */
	size_t a = start, b = out->len;

	while (a < b && (out->data[a] == ' ' || out->data[a] == '\t'))
		a++;
	while (b > a && (out->data[b - 1] == ' ' || out->data[b - 1] == '\t'))
		b--;
	if (b > a && a > start)
		memmove(out->data + start, out->data + a, b - a);
	buf_truncate(out, start + (b - a));
	return 0;
}

int header_in_list(const char *raw, size_t len, char *const *list)
{
	size_t n = header_name_len(raw, len, NULL);

	if (n == 0 || list == NULL)
		return 0;
	for (; *list; list++)
		if (strlen(*list) == n && strncasecmp(raw, *list, n) == 0)
			return 1;
	return 0;
}
