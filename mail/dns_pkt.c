/*
 * dns_pkt.c - encode a DNS query and parse its answer, strictly.
 *
 * Called by the dns stage (daemons/dns) for every packet a resolver sends,
 * and by tests and the fuzzer. Nothing in a packet is trusted: counts are
 * only upper bounds for a walk that checks every byte against the packet
 * length, names are decoded with backwards-only compression pointers and a
 * jump limit, and text handed on is limited to host-name characters.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ipc/mailproto.h"
#include "lib/xmem.h"
#include "mail/dns_pkt.h"

static int dns_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	       || c == '-' || c == '_';
}

int dns_pkt_query(struct buf *out, uint16_t id, const char *name, uint16_t type,
		  struct buf *why)
{
	static const unsigned char hdr_tail[] = { 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t n = strlen(name), start;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253) {
		buf_set_str(why, "bad query name length");
		return -1;
	}
	buf_reset(out);
	(void)buf_putc(out, id >> 8);
	(void)buf_putc(out, id & 0xff);
	(void)buf_append(out, hdr_tail, sizeof(hdr_tail));
	for (start = 0; start <= n;) {
		size_t end = start;

		while (end < n && name[end] != '.') {
			if (!dns_label_char((unsigned char)name[end])) {
				buf_set_str(why, "bad character in query name");
				return -1;
			}
			end++;
		}
		if (end == start || end - start > 63) {
			buf_set_str(why, "bad label in query name");
			return -1;
		}
		(void)buf_putc(out, (int)(end - start));
		(void)buf_append(out, name + start, end - start);
		start = end + 1;
	}
	(void)buf_putc(out, 0);
	(void)buf_putc(out, type >> 8);
	(void)buf_putc(out, type & 0xff);
	(void)buf_putc(out, 0);
	(void)buf_putc(out, DNS_C_IN);
	return 0;
}

void dns_pkt_dnssec(struct buf *query, int do_bit)
{
	/* OPT: root owner, type 41, class = UDP size, TTL = ext-rcode 0,
	 * version 0, flags DO; no options. */
	static const unsigned char opt[] = {
		0, 0, DNS_T_OPT, DNS_EDNS_UDP >> 8, DNS_EDNS_UDP & 0xff, 0, 0, 0x80, 0, 0, 0,
	};

	if (query->len < DNS_PKT_HEADER)
		return;
	query->data[3] |= 0x20;		/* AD */
	if (!do_bit)
		return;
	query->data[11] = 1;		/* ARCOUNT */
	(void)buf_append(query, opt, sizeof(opt));
}

void dns_pkt_result_free(struct dns_result *res)
{
	xfree(res->blob);
	res->blob = NULL;
	res->blob_len = 0;
}

int dns_pkt_name(const unsigned char *p, size_t len, size_t off, char out[256], size_t *next)
{
	size_t o = 0, wire = 0, limit = off;	/* pointers must go below limit */
	int jumps = 0, bad = 0;

	*next = 0;
	for (;;) {
		unsigned c;

		if (off >= len)
			return -1;
		c = p[off];
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (off + 1 >= len || ++jumps > DNS_PKT_MAX_JUMPS)
				return -1;
			to = ((c & 0x3f) << 8) | p[off + 1];
			if (*next == 0)
				*next = off + 2;
			/* Strictly backwards: no pointer loop can exist. */
			if (to >= limit)
				return -1;
			limit = to;
			off = to;
			continue;
		}
		if (c & 0xc0)
			return -1;	/* 0x40/0x80: extended label types, refused */
		if (c == 0)
			break;
		if (off + 1 + c > len || (wire += c + 1) > 254)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (unsigned i = 0; i < c; i++) {
			unsigned char ch = p[off + 1 + i];

			if (!dns_label_char(ch)) {
				ch = '?';
				bad = 1;
			}
			out[o++] = (char)ch;
		}
		off += 1 + c;
	}
	out[o] = 0;
	if (*next == 0)
		*next = off + 1;
	return bad;
}

/* dns_name_eq - case-insensitive, ignoring one trailing dot on q. */
static int dns_name_eq(const char *a, const char *q)
{
	size_t n = strlen(q);

	if (n > 0 && q[n - 1] == '.')
		n--;
	return strlen(a) == n && strncasecmp(a, q, n) == 0;
}

static unsigned dns_u16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

static uint32_t dns_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* One answer record, as scanned. */
struct dns_scan {
	char owner[256];
	int owner_bad;
	uint16_t type;
	uint32_t ttl;
	size_t rdoff, rdlen;
};

/* dns_txt - a TXT record's strings joined, cut at 255 bytes, every byte a
 * reply line could not carry (controls, 8-bit) as '?'; -1 if malformed. */
static int dns_txt(const unsigned char *p, const struct dns_scan *s, struct dns_rr *rr)
{
	size_t off = s->rdoff, end = s->rdoff + s->rdlen, n = 0;

	while (off < end) {
		size_t slen = p[off++];

		if (off + slen > end)
			return -1;
		for (size_t i = 0; i < slen && n < sizeof(rr->value) - 1; i++) {
			unsigned char c = p[off + i];

			rr->value[n++] = c >= 32 && c < 127 ? (char)c : '?';
		}
		off += slen;
	}
	rr->value[n] = 0;
	return 0;
}

/* dns_tlsa - usage, selector, matching type, and the data appended to
 * res->blob (which holds at most the packet's length); -1 if malformed. */
static int dns_tlsa(const unsigned char *p, size_t len, const struct dns_scan *s,
		    struct dns_rr *rr, struct dns_result *res)
{
	if (s->rdlen < 3)
		return -1;
	if (res->blob == NULL)
		res->blob = xmalloc(len);
	rr->type = s->type;
	rr->ttl = s->ttl > 0x7fffffff ? 0 : s->ttl;
	rr->pref = 0;
	rr->value[0] = 0;
	rr->usage = p[s->rdoff];
	rr->selector = p[s->rdoff + 1];
	rr->mtype = p[s->rdoff + 2];
	rr->doff = res->blob_len;
	rr->dlen = s->rdlen - 3;
	memcpy(res->blob + res->blob_len, p + s->rdoff + 3, rr->dlen);
	res->blob_len += rr->dlen;
	return 0;
}

/* dns_rdata - the value of one record of the asked type; -1 to skip it. */
static int dns_rdata(const unsigned char *p, size_t len, const struct dns_scan *s,
		     struct dns_rr *rr)
{
	size_t next, noff = s->rdoff;

	rr->type = s->type;
	rr->ttl = s->ttl > 0x7fffffff ? 0 : s->ttl;	/* RFC 2181 8 */
	rr->pref = 0;
	rr->value[0] = 0;
	switch (s->type) {
	case DNS_T_A:
		if (s->rdlen != 4)
			return -1;
		return inet_ntop(AF_INET, p + s->rdoff, rr->value, sizeof(rr->value)) ? 0 : -1;
	case DNS_T_AAAA:
		if (s->rdlen != 16)
			return -1;
		return inet_ntop(AF_INET6, p + s->rdoff, rr->value, sizeof(rr->value)) ? 0 : -1;
	case DNS_T_TXT:
		return dns_txt(p, s, rr);
	case DNS_T_MX:
		if (s->rdlen < 3)
			return -1;
		rr->pref = (uint16_t)dns_u16(p + s->rdoff);
		noff += 2;
		/* fall through */
	case DNS_T_NS:
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if (dns_pkt_name(p, len, noff, rr->value, &next) != 0 || next != s->rdoff + s->rdlen)
			return -1;
		if (rr->value[0] == 0)
			memcpy(rr->value, ".", 2);
		return 0;
	default:
		return -1;
	}
}

/* dns_scan_answers - walk the answer section; -1 if it runs off the packet. */
static int dns_scan_answers(const unsigned char *p, size_t len, size_t off, unsigned ancount,
			    struct dns_scan *scan, size_t *nscan)
{
	*nscan = 0;
	for (unsigned i = 0; i < ancount; i++) {
		struct dns_scan s;
		size_t next;
		int r = dns_pkt_name(p, len, off, s.owner, &next);

		if (r < 0 || next + 10 > len)
			return -1;
		s.owner_bad = r;
		s.type = (uint16_t)dns_u16(p + next);
		s.ttl = dns_u32(p + next + 4);
		s.rdlen = dns_u16(p + next + 8);
		s.rdoff = next + 10;
		if (s.rdoff + s.rdlen > len)
			return -1;
		off = s.rdoff + s.rdlen;
		if (dns_u16(p + next + 2) != DNS_C_IN || s.owner_bad)
			continue;
		if (*nscan < DNS_PKT_MAX_SCAN)
			scan[(*nscan)++] = s;
	}
	return 0;
}

/* dns_chase - follow the CNAME chain from qname within the answer. */
static const char *dns_chase(const unsigned char *p, size_t len, const struct dns_scan *scan,
			     size_t nscan, const char *qname, char cur[256])
{
	struct dns_rr rr;
	size_t hops = 0;

	snprintf(cur, 256, "%s", qname);
	for (size_t i = 0; i < nscan; i++) {
		if (scan[i].type != DNS_T_CNAME || !dns_name_eq(scan[i].owner, cur))
			continue;
		if (++hops > DNS_PKT_MAX_CNAME)
			return NULL;
		if (dns_rdata(p, len, &scan[i], &rr) < 0)
			return NULL;
		snprintf(cur, 256, "%s", rr.value);
		i = (size_t)-1;		/* the next link may come earlier in the section */
	}
	return cur;
}

static void dns_fail(struct dns_result *res, int status, const char *reason)
{
	dns_pkt_result_free(res);
	res->status = status;
	res->reason = reason;
	res->nrr = 0;
}

/* dns_check_header - is this packet the answer to our question? */
static int dns_check_header(const unsigned char *p, size_t len, uint16_t id, const char *qname,
			    uint16_t qtype, size_t *off, struct buf *why)
{
	char name[256];
	size_t next;

	if (len < DNS_PKT_HEADER) {
		buf_set_str(why, "short packet");
		return -1;
	}
	if (dns_u16(p) != id || !(p[2] & 0x80) || (p[2] & 0x78) != 0) {
		buf_set_str(why, "not a reply to our query (id, QR or opcode)");
		return -1;
	}
	if (dns_u16(p + 4) != 1 || dns_pkt_name(p, len, DNS_PKT_HEADER, name, &next) != 0
	    || next + 4 > len || !dns_name_eq(name, qname) || dns_u16(p + next) != qtype
	    || dns_u16(p + next + 2) != DNS_C_IN) {
		buf_set_str(why, "reply does not repeat our question");
		return -1;
	}
	*off = next + 4;
	return 0;
}

int dns_pkt_parse(const unsigned char *p, size_t len, uint16_t id, const char *qname,
		  uint16_t qtype, struct dns_result *res, struct buf *why)
{
	static struct dns_scan scan[DNS_PKT_MAX_SCAN];
	char cur[256];
	size_t off, nscan;
	const char *owner;

	memset(res, 0, sizeof(*res));
	if (dns_check_header(p, len, id, qname, qtype, &off, why) < 0)
		return -1;
	res->secure = (p[3] & 0x20) != 0;
	if (p[2] & 0x02) {
		res->tc = 1;
		dns_fail(res, DNS_TEMPFAIL, "truncated reply");
		return 0;
	}
	switch (p[3] & 0x0f) {
	case 0:
		break;
	case 3:
		dns_fail(res, DNS_NOTFOUND, "Host not found");
		return 0;
	case 4:
		dns_fail(res, DNS_PERMFAIL, "server does not implement the query");
		return 0;
	case 5:
		dns_fail(res, DNS_TEMPFAIL, "server refused the query");
		return 0;
	default:
		dns_fail(res, DNS_TEMPFAIL, "Host not found, try again");
		return 0;
	}
	if (dns_scan_answers(p, len, off, dns_u16(p + 6), scan, &nscan) < 0) {
		dns_fail(res, DNS_TEMPFAIL, "malformed reply");
		return 0;
	}
	if ((owner = dns_chase(p, len, scan, nscan, qname, cur)) == NULL) {
		dns_fail(res, DNS_TEMPFAIL, "CNAME chain too long or malformed");
		return 0;
	}
	for (size_t i = 0; i < nscan && res->nrr < DNS_PKT_MAX_RR; i++) {
		struct dns_rr *rr = &res->rr[res->nrr];

		if (scan[i].type != qtype || !dns_name_eq(scan[i].owner, owner))
			continue;
		if (qtype == DNS_T_TLSA ? dns_tlsa(p, len, &scan[i], rr, res) == 0
		    : dns_rdata(p, len, &scan[i], rr) == 0)
			res->nrr++;
	}
	if (res->nrr == 0)
		dns_fail(res, DNS_NODATA, "no records of the requested type");
	else
		res->status = DNS_OK;
	return 0;
}
