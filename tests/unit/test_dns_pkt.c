/*
 * test_dns_pkt.c - unit tests for mail/dns_pkt.c: query encoding, answers,
 * CNAME chains, PTR answers, TLSA answers and the AD bit, the DNSSEC query
 * flags, and hostile packets (compression loops, truncation, lying counts,
 * wrong id or question).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ipc/mailproto.h"
#include "mail/dns_pkt.h"

/* A packet under construction. */
struct pkt {
	unsigned char b[1024];
	size_t n;
};

static void put8(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (unsigned char)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void putname(struct pkt *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		put8(p, (unsigned)n);
		memcpy(p->b + p->n, name, n);
		p->n += n;
		name += n + (dot ? 1 : 0);
	}
	put8(p, 0);
}

/* header + question for (id, name, type), ancount answers, rcode. */
static void start(struct pkt *p, unsigned id, const char *name, unsigned type, unsigned ancount,
		  unsigned rcode)
{
	p->n = 0;
	put16(p, id);
	put16(p, 0x8180 | rcode);
	put16(p, 1);
	put16(p, ancount);
	put16(p, 0);
	put16(p, 0);
	putname(p, name);
	put16(p, type);
	put16(p, DNS_C_IN);
}

/* rr header with the owner as a pointer to the question name (offset 12). */
static void rr_hdr(struct pkt *p, unsigned type, uint32_t ttl, unsigned rdlen)
{
	put16(p, 0xc00c);
	put16(p, type);
	put16(p, DNS_C_IN);
	put32(p, ttl);
	put16(p, rdlen);
}

static int parse(struct pkt *p, unsigned id, const char *q, unsigned type, struct dns_result *r)
{
	struct buf why = BUF_INIT;
	int rc = dns_pkt_parse(p->b, p->n, (uint16_t)id, q, (uint16_t)type, r, &why);

	buf_free(&why);
	return rc;
}

static void test_query_encoding(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	static const unsigned char want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 15, 0, 1,
	};

	(void)state;
	assert_int_equal(dns_pkt_query(&out, 0x1234, "example.com.", DNS_T_MX, &why), 0);
	assert_int_equal(out.len, sizeof(want));
	assert_memory_equal(out.data, want, sizeof(want));
	assert_int_equal(dns_pkt_query(&out, 1, "a..b", DNS_T_A, &why), -1);
	assert_int_equal(dns_pkt_query(&out, 1, "", DNS_T_A, &why), -1);
	assert_int_equal(dns_pkt_query(&out, 1, "a b.com", DNS_T_A, &why), -1);
	assert_int_equal(dns_pkt_query(&out, 1,
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", DNS_T_A, &why), -1);
	buf_free(&out);
	buf_free(&why);
}

static void test_a_and_mx_answers(void **state)
{
	struct pkt p;
	struct dns_result r;

	(void)state;
	start(&p, 7, "example.com", DNS_T_A, 2, 0);
	rr_hdr(&p, DNS_T_A, 300, 4);
	put32(&p, 0xc0000201);
	rr_hdr(&p, DNS_T_A, 60, 4);
	put32(&p, 0x7f000001);
	assert_int_equal(parse(&p, 7, "EXAMPLE.com.", DNS_T_A, &r), 0);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(r.nrr, 2);
	assert_string_equal(r.rr[0].value, "192.0.2.1");
	assert_int_equal(r.rr[0].ttl, 300);
	assert_string_equal(r.rr[1].value, "127.0.0.1");

	start(&p, 8, "example.com", DNS_T_MX, 2, 0);
	rr_hdr(&p, DNS_T_MX, 300, 2 + 6);
	put16(&p, 10);
	put8(&p, 3); memcpy(p.b + p.n, "mx1", 3); p.n += 3;
	put16(&p, 0xc00c);			/* mx1.example.com */
	rr_hdr(&p, DNS_T_MX, 300, 3);
	put16(&p, 0);
	put8(&p, 0);				/* null MX "." */
	assert_int_equal(parse(&p, 8, "example.com", DNS_T_MX, &r), 0);
	assert_int_equal(r.nrr, 2);
	assert_int_equal(r.rr[0].pref, 10);
	assert_string_equal(r.rr[0].value, "mx1.example.com");
	assert_string_equal(r.rr[1].value, ".");

	start(&p, 9, "v6.example", DNS_T_AAAA, 1, 0);
	rr_hdr(&p, DNS_T_AAAA, 10, 16);
	for (int i = 0; i < 15; i++)
		put8(&p, 0);
	put8(&p, 1);
	assert_int_equal(parse(&p, 9, "v6.example", DNS_T_AAAA, &r), 0);
	assert_string_equal(r.rr[0].value, "::1");
}

static void test_rcodes_and_nodata(void **state)
{
	struct pkt p;
	struct dns_result r;

	(void)state;
	start(&p, 1, "nx.example", DNS_T_MX, 0, 3);
	assert_int_equal(parse(&p, 1, "nx.example", DNS_T_MX, &r), 0);
	assert_int_equal(r.status, DNS_NOTFOUND);
	start(&p, 1, "sf.example", DNS_T_MX, 0, 2);
	assert_int_equal(parse(&p, 1, "sf.example", DNS_T_MX, &r), 0);
	assert_int_equal(r.status, DNS_TEMPFAIL);
	start(&p, 1, "nd.example", DNS_T_MX, 0, 0);
	assert_int_equal(parse(&p, 1, "nd.example", DNS_T_MX, &r), 0);
	assert_int_equal(r.status, DNS_NODATA);
	/* An A record in an MX answer is not an MX record. */
	start(&p, 1, "nd.example", DNS_T_MX, 1, 0);
	rr_hdr(&p, DNS_T_A, 1, 4);
	put32(&p, 1);
	assert_int_equal(parse(&p, 1, "nd.example", DNS_T_MX, &r), 0);
	assert_int_equal(r.status, DNS_NODATA);
	/* TC: ask again over TCP. */
	start(&p, 1, "tc.example", DNS_T_MX, 0, 0);
	p.b[2] |= 0x02;
	assert_int_equal(parse(&p, 1, "tc.example", DNS_T_MX, &r), 0);
	assert_int_equal(r.tc, 1);
}

static void test_not_our_answer(void **state)
{
	struct pkt p;
	struct dns_result r;

	(void)state;
	start(&p, 5, "example.com", DNS_T_A, 0, 0);
	assert_int_equal(parse(&p, 6, "example.com", DNS_T_A, &r), -1);	/* id */
	assert_int_equal(parse(&p, 5, "example.org", DNS_T_A, &r), -1);	/* name */
	assert_int_equal(parse(&p, 5, "example.com", DNS_T_MX, &r), -1);	/* type */
	p.b[2] &= 0x7f;
	assert_int_equal(parse(&p, 5, "example.com", DNS_T_A, &r), -1);	/* not QR */
	p.n = 11;
	assert_int_equal(parse(&p, 5, "example.com", DNS_T_A, &r), -1);	/* short */
}

static void test_cname_chain(void **state)
{
	struct pkt p;
	struct dns_result r;
	size_t tgt;

	(void)state;
	start(&p, 3, "www.example", DNS_T_A, 2, 0);
	/* The A record of the target comes first; the chain is followed anyway. */
	/* rr 1: owner = literal name "real.example", A 10.0.0.1 */
	putname(&p, "real.example");
	put16(&p, DNS_T_A); put16(&p, DNS_C_IN); put32(&p, 5); put16(&p, 4);
	put32(&p, 0x0a000001);
	/* rr 2: www.example CNAME -> pointer to rr 1's owner */
	tgt = p.n - 4 - 10 - 14;
	rr_hdr(&p, DNS_T_CNAME, 5, 2);
	put16(&p, 0xc000 | (unsigned)tgt);
	assert_int_equal(parse(&p, 3, "www.example", DNS_T_A, &r), 0);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(r.nrr, 1);
	assert_string_equal(r.rr[0].value, "10.0.0.1");

	/* A CNAME loop (a -> a) ends as a temporary failure. */
	start(&p, 4, "loop.example", DNS_T_A, 1, 0);
	rr_hdr(&p, DNS_T_CNAME, 5, 2);
	put16(&p, 0xc00c);
	assert_int_equal(parse(&p, 4, "loop.example", DNS_T_A, &r), 0);
	assert_int_equal(r.status, DNS_TEMPFAIL);
}

static void test_hostile_names(void **state)
{
	struct pkt p;
	struct dns_result r;
	char name[256];
	size_t next;
	static const unsigned char self_ptr[] = { 0xc0, 0x00 };
	static const unsigned char fwd_ptr[] = { 0xc0, 0x02, 1, 'a', 0 };
	static const unsigned char runoff[] = { 5, 'a', 'b' };
	static const unsigned char ext[] = { 0x41, 0 };
	static const unsigned char odd[] = { 3, 'a', 0, 'b', 0 };

	(void)state;
	assert_int_equal(dns_pkt_name(self_ptr, sizeof(self_ptr), 0, name, &next), -1);
	assert_int_equal(dns_pkt_name(fwd_ptr, sizeof(fwd_ptr), 0, name, &next), -1);
	assert_int_equal(dns_pkt_name(runoff, sizeof(runoff), 0, name, &next), -1);
	assert_int_equal(dns_pkt_name(ext, sizeof(ext), 0, name, &next), -1);
	assert_int_equal(dns_pkt_name(odd, sizeof(odd), 0, name, &next), 1);
	assert_string_equal(name, "a?b");

	/* Pointer loop inside an answer: two pointers to each other. */
	start(&p, 2, "x.example", DNS_T_MX, 1, 0);
	rr_hdr(&p, DNS_T_MX, 1, 6);
	put16(&p, 1);
	put16(&p, 0xc000 | (unsigned)(p.n + 2));
	put16(&p, 0xc000 | (unsigned)(p.n - 2));
	assert_int_equal(parse(&p, 2, "x.example", DNS_T_MX, &r), 0);
	assert_int_equal(r.status, DNS_NODATA);

	/* Counts that lie: ancount 5, one record present. */
	start(&p, 2, "x.example", DNS_T_A, 5, 0);
	rr_hdr(&p, DNS_T_A, 1, 4);
	put32(&p, 1);
	assert_int_equal(parse(&p, 2, "x.example", DNS_T_A, &r), 0);
	assert_int_equal(r.status, DNS_TEMPFAIL);

	/* rdlength past the end. */
	start(&p, 2, "x.example", DNS_T_A, 1, 0);
	rr_hdr(&p, DNS_T_A, 1, 400);
	put32(&p, 1);
	assert_int_equal(parse(&p, 2, "x.example", DNS_T_A, &r), 0);
	assert_int_equal(r.status, DNS_TEMPFAIL);

	/* An A record of the wrong length is skipped. */
	start(&p, 2, "x.example", DNS_T_A, 1, 0);
	rr_hdr(&p, DNS_T_A, 1, 3);
	put8(&p, 1); put8(&p, 2); put8(&p, 3);
	assert_int_equal(parse(&p, 2, "x.example", DNS_T_A, &r), 0);
	assert_int_equal(r.status, DNS_NODATA);

	/* MX target with bytes that are no host name: skipped. */
	start(&p, 2, "x.example", DNS_T_MX, 1, 0);
	rr_hdr(&p, DNS_T_MX, 1, 2 + 4);
	put16(&p, 1);
	put8(&p, 2); put8(&p, 'a'); put8(&p, ' '); put8(&p, 0);
	assert_int_equal(parse(&p, 2, "x.example", DNS_T_MX, &r), 0);
	assert_int_equal(r.status, DNS_NODATA);
}

/* PTR: the reverse names smtpd asks (in-addr.arpa, ip6.arpa nibbles) and their answers. */
static void test_ptr_answers(void **state)
{
	static const char v6[] =
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct pkt p;
	struct dns_result r;

	(void)state;
	assert_int_equal(dns_pkt_query(&out, 1, v6, DNS_T_PTR, &why), 0);
	assert_int_equal(out.len, DNS_PKT_HEADER + strlen(v6) + 2 + 4);

	start(&p, 6, "4.3.2.1.in-addr.arpa", DNS_T_PTR, 1, 0);
	rr_hdr(&p, DNS_T_PTR, 300, 18);
	putname(&p, "mail.example.com");
	assert_int_equal(parse(&p, 6, "4.3.2.1.in-addr.arpa", DNS_T_PTR, &r), 0);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(r.nrr, 1);
	assert_int_equal(r.rr[0].type, DNS_T_PTR);
	assert_string_equal(r.rr[0].value, "mail.example.com");

	/* An NS record names its server the way a PTR record does. */
	start(&p, 6, "example.com", DNS_T_NS, 1, 0);
	rr_hdr(&p, DNS_T_NS, 300, 17);
	putname(&p, "ns1.example.net");
	assert_int_equal(parse(&p, 6, "example.com", DNS_T_NS, &r), 0);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(r.nrr, 1);
	assert_string_equal(r.rr[0].value, "ns1.example.net");

	/* RFC 2317 delegation: the PTR sits behind a CNAME. */
	start(&p, 6, "4.3.2.1.in-addr.arpa", DNS_T_PTR, 2, 0);
	rr_hdr(&p, DNS_T_CNAME, 300, 10);
	putname(&p, "4.0-63.x");
	putname(&p, "4.0-63.x");
	put16(&p, DNS_T_PTR); put16(&p, DNS_C_IN); put32(&p, 300); put16(&p, 3);
	putname(&p, "h");
	assert_int_equal(parse(&p, 6, "4.3.2.1.in-addr.arpa", DNS_T_PTR, &r), 0);
	assert_int_equal(r.nrr, 1);
	assert_string_equal(r.rr[0].value, "h");

	/* A PTR name with bytes that are no host name never leaves the parser. */
	start(&p, 6, v6, DNS_T_PTR, 1, 0);
	rr_hdr(&p, DNS_T_PTR, 300, 5);
	put8(&p, 3); put8(&p, 'a'); put8(&p, '\n'); put8(&p, 'b'); put8(&p, 0);
	assert_int_equal(parse(&p, 6, v6, DNS_T_PTR, &r), 0);
	assert_int_equal(r.status, DNS_NODATA);
	buf_free(&out);
	buf_free(&why);
}

static void test_many_records_capped(void **state)
{
	static struct pkt big;
	struct dns_result r;
	struct pkt *p = &big;

	(void)state;
	start(p, 9, "m.example", DNS_T_A, 60, 0);
	for (int i = 0; i < 60; i++) {
		rr_hdr(p, DNS_T_A, 1, 4);
		put32(p, (uint32_t)i);
	}
	assert_true(p->n <= sizeof(p->b));
	assert_int_equal(parse(p, 9, "m.example", DNS_T_A, &r), 0);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(r.nrr, DNS_PKT_MAX_RR);
}

static void test_dnssec_query_flags(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	static const unsigned char opt[] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0 };

	(void)state;
	assert_int_equal(dns_pkt_query(&out, 1, "x.test", DNS_T_TLSA, &why), 0);
	dns_pkt_dnssec(&out, 0);
	assert_int_equal(out.data[3] & 0x20, 0x20);	/* AD asked for */
	assert_int_equal(out.data[11], 0);		/* no OPT */
	size_t plain = out.len;

	dns_pkt_dnssec(&out, 1);
	assert_int_equal(out.data[11], 1);		/* ARCOUNT */
	assert_int_equal(out.len, plain + sizeof(opt));
	assert_memory_equal(out.data + plain, opt, sizeof(opt));	/* DO, 1232 */
	buf_free(&out);
	buf_free(&why);
}

static void test_tlsa_answers_and_ad_bit(void **state)
{
	struct pkt p;
	struct dns_result r;
	static const unsigned char digest[32] = { 0xab, 1, 2, 3 };

	(void)state;
	start(&p, 9, "_25._tcp.mx.test", DNS_T_TLSA, 3, 0);
	p.b[3] |= 0x20;				/* AD */
	rr_hdr(&p, DNS_T_TLSA, 300, 3 + 32);
	put8(&p, 3); put8(&p, 1); put8(&p, 1);
	memcpy(p.b + p.n, digest, 32);
	p.n += 32;
	rr_hdr(&p, DNS_T_TLSA, 300, 2);		/* malformed: skipped */
	put16(&p, 0x0301);
	rr_hdr(&p, DNS_T_TLSA, 300, 4);
	put8(&p, 2); put8(&p, 0); put8(&p, 0); put8(&p, 0x55);
	assert_int_equal(parse(&p, 9, "_25._tcp.mx.test", DNS_T_TLSA, &r), 0);
	assert_int_equal(r.status, DNS_OK);
	assert_int_equal(r.secure, 1);
	assert_int_equal(r.nrr, 2);
	assert_int_equal(r.rr[0].usage, 3);
	assert_int_equal(r.rr[0].selector, 1);
	assert_int_equal(r.rr[0].mtype, 1);
	assert_int_equal(r.rr[0].dlen, 32);
	assert_memory_equal(r.blob + r.rr[0].doff, digest, 32);
	assert_int_equal(r.rr[1].usage, 2);
	assert_int_equal(r.rr[1].dlen, 1);
	assert_int_equal(r.blob[r.rr[1].doff], 0x55);
	dns_pkt_result_free(&r);
	assert_null(r.blob);

	start(&p, 10, "_25._tcp.mx.test", DNS_T_TLSA, 0, 0);	/* NODATA, no AD */
	assert_int_equal(parse(&p, 10, "_25._tcp.mx.test", DNS_T_TLSA, &r), 0);
	assert_int_equal(r.status, DNS_NODATA);
	assert_int_equal(r.secure, 0);
	assert_null(r.blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_encoding),
		cmocka_unit_test(test_a_and_mx_answers),
		cmocka_unit_test(test_rcodes_and_nodata),
		cmocka_unit_test(test_not_our_answer),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_ptr_answers),
		cmocka_unit_test(test_many_records_capped),
		cmocka_unit_test(test_dnssec_query_flags),
		cmocka_unit_test(test_tlsa_answers_and_ad_bit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
