/*
 * addrlist.c - the addresses of an address-list header, in place (see
 * addrlist.h). RFC 5322 3.4: a list of mailboxes and groups separated by
 * commas; a mailbox is "phrase <addr-spec>" or a bare addr-spec; a group
 * is "phrase: mailbox, ...;". Quoted strings, comments (nested, with
 * quoted pairs) and domain literals are skipped as units, so a comma, a
 * colon or an angle bracket inside them separates nothing.
 */
#include <stdint.h>
#include <string.h>

#include "mail/addrlist.h"

#define AL_NONE	SIZE_MAX

/* al_skip - past the quoted string, comment or literal that starts at v[i]; AL_NONE if unclosed. */
static size_t al_skip(const char *v, size_t i, size_t len)
{
	char open = v[i], close = open == '"' ? '"' : open == '(' ? ')' : ']';
	int depth = 1;

	for (i++; i < len; i++) {
		if (v[i] == '\\' && open != '[') {
			i++;	/* a quoted pair */
			continue;
		}
		if (v[i] == close && --depth == 0)
			return i + 1;
		if (open == '(' && v[i] == '(')
			depth++;
	}
	return AL_NONE;
}

static int al_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * al_key - the addr-spec in v[s..e): its span without the comments and
 * white space around it, and its key. -1 if it is none we may rewrite.
 */
static int al_key(const char *v, size_t s, size_t e, struct buf *key, size_t *off, size_t *end)
{
	int gap = 0;

	buf_reset(key);
	*off = *end = AL_NONE;
	for (size_t i = s; i < e;) {
		unsigned char c = (unsigned char)v[i];
		size_t next = i + 1;

		if (al_space((char)c)) {
			gap = *off != AL_NONE;
			i = next;
			continue;
		}
		if (c == '(') {
			if ((i = al_skip(v, i, e)) == AL_NONE)
				return -1;
			continue;
		}
		if (c < 32 || c == 127 || gap)
			return -1;	/* a control character, or words apart: a phrase */
		if (c == '"' || c == '[')
			next = al_skip(v, i, e);
		if (next == AL_NONE || buf_append(key, v + i, next - i) < 0)
			return -1;
		if (*off == AL_NONE)
			*off = i;
		*end = next;
		i = next;
	}
	return key->len > 0 && memchr(key->data, 0, key->len) == NULL ? 0 : -1;
}

/* al_mailbox - one mailbox v[s..e) with its angle brackets at lt, gt (or AL_NONE). */
static int al_mailbox(const char *v, size_t s, size_t e, size_t lt, size_t gt, struct buf *key,
		      addrlist_fn fn, void *ctx)
{
	size_t off, end;

	if (lt != AL_NONE) {
		if (gt == AL_NONE)
			return 0;
		s = lt + 1;
		e = gt;
		while (s < e && al_space(v[s]))
			s++;
		if (s < e && v[s] == '@') {	/* a source route: @a,@b:user@domain */
			const char *colon = memchr(v + s, ':', e - s);

			if (colon == NULL)
				return 0;
			s = (size_t)(colon - v) + 1;
		}
	}
	if (al_key(v, s, e, key, &off, &end) < 0)
		return 0;
	return fn(ctx, off, end - off, buf_str(key)) < 0 ? -1 : 1;
}

int addrlist_scan(const char *v, size_t len, struct buf *key, addrlist_fn fn, void *ctx)
{
	size_t i = 0, start = 0, lt = AL_NONE, gt = AL_NONE;
	int count = 0, r;

	while (i < len) {
		char c = v[i];
		int in_angle = lt != AL_NONE && gt == AL_NONE;

		if (c == '"' || c == '(' || c == '[') {
			if ((i = al_skip(v, i, len)) == AL_NONE)
				return count;	/* unclosed: nothing after this is an address */
			continue;
		}
		if (c == '<' && lt == AL_NONE)
			lt = i;
		else if (c == '>' && in_angle)
			gt = i;
		else if (c == ':' && lt == AL_NONE)
			start = i + 1;	/* what came before is a group's name */
		else if ((c == ',' || c == ';') && !in_angle) {
			if ((r = al_mailbox(v, start, i, lt, gt, key, fn, ctx)) < 0)
				return -1;
			count += r;
			start = i + 1;
			lt = gt = AL_NONE;
		}
		i++;
	}
	if ((r = al_mailbox(v, start, len, lt, gt, key, fn, ctx)) < 0)
		return -1;
	return count + r;
}
