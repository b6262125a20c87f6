/*
 * record.c - encode and decode typed records (see record.h).
 *
 * Used by the queue file writer and the envelope and content readers. The
 * decoder sees bytes that a crash, a full disk or an attacker with queue
 * access may have shaped, so it must never read past the region it is given,
 * never trust a length before comparing it with both the region and the
 * caller's maximum, and never accept two spellings of one length.
 */
#include <string.h>

#include "queue/record.h"

/* record_varint_put - encode v into out (room for RECORD_VARINT_MAX); returns bytes used. */
size_t record_varint_put(unsigned char *out, uint32_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

/*
 * record_varint_get - decode a length from p[0..avail). Returns RECORD_OK
 * with *v and *used, RECORD_SHORT if avail ends inside it, RECORD_BAD if it
 * is longer than RECORD_VARINT_MAX, overflows 32 bits or is not minimal.
 */
int record_varint_get(const unsigned char *p, size_t avail, uint32_t *v, size_t *used)
{
	uint32_t val = 0;
	size_t i;

	for (i = 0; i < RECORD_VARINT_MAX; i++) {
		if (i >= avail)
			return RECORD_SHORT;
		/* The fifth byte carries bits 28..31 only; anything above overflows. */
		if (i == RECORD_VARINT_MAX - 1 && p[i] > 0x0f)
			return RECORD_BAD;
		val |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] & 0x80)
			continue;
		/* A zero last group after the first byte is a second spelling. */
		if (i > 0 && p[i] == 0)
			return RECORD_BAD;
		*v = val;
		*used = i + 1;
		return RECORD_OK;
	}
	return RECORD_BAD;
}

/* record_put - append one record to b; -1 (b unchanged) past b's cap or 4 GB. */
int record_put(struct buf *b, int type, const void *data, size_t len)
{
	unsigned char hdr[RECORD_HEADER_MAX];
	size_t hlen;

	if (len > UINT32_MAX)
		return -1;
	hdr[0] = (unsigned char)type;
	hlen = 1 + record_varint_put(hdr + 1, (uint32_t)len);
	if (buf_reserve(b, hlen + len) < 0)
		return -1;
	buf_append(b, hdr, hlen);
	buf_append(b, data, len);
	return 0;
}

/*
 * record_header_get - decode the type and length at p[0..avail). *hdrlen is
 * the header size; the data is not required to be present. RECORD_BAD also
 * when the length exceeds max.
 */
int record_header_get(const unsigned char *p, size_t avail, size_t max,
		      int *type, size_t *len, size_t *hdrlen)
{
	uint32_t v;
	size_t used;
	int r;

	if (avail < 1)
		return RECORD_SHORT;
	r = record_varint_get(p + 1, avail - 1, &v, &used);
	if (r != RECORD_OK)
		return r;
	if (v > max)
		return RECORD_BAD;
	*type = p[0];
	*len = v;
	*hdrlen = 1 + used;
	return RECORD_OK;
}

/* record_get - decode the whole record at p[off..plen) with data length <= max. */
int record_get(const unsigned char *p, size_t plen, size_t off, size_t max,
	       struct record *rec)
{
	size_t len, hlen;
	int type, r;

	if (off >= plen)
		return RECORD_SHORT;
	r = record_header_get(p + off, plen - off, max, &type, &len, &hlen);
	if (r != RECORD_OK)
		return r;
	/* Subtract, never add: off + hlen + len could wrap. */
	if (len > plen - off - hlen)
		return RECORD_SHORT;
	rec->type = type;
	rec->data = p + off + hlen;
	rec->len = len;
	rec->off = off;
	rec->end = off + hlen + len;
	return RECORD_OK;
}
