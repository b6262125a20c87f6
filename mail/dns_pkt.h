/*
 * dns_pkt.h - DNS messages (RFC 1035): encode one query, parse its answer.
 *
 * Everything a DNS server sends is hostile. The parser checks every length
 * against the packet, follows compression pointers only backwards and at
 * most DNS_PKT_MAX_JUMPS times, accepts an answer only when its id, QR bit,
 * opcode and question match what was asked, follows CNAME chains only
 * within the answer section (at most DNS_PKT_MAX_CNAME links), and returns
 * only records of the type asked for, at most DNS_PKT_MAX_RR of them.
 * Whether the answer is DNSSEC-validated is the resolver's AD bit, which
 * means something only from a validating resolver on this host.
 */
#ifndef MOAT_MAIL_DNS_PKT_H
#define MOAT_MAIL_DNS_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define DNS_PKT_MAX_RR		32
#define DNS_PKT_MAX_SCAN	128	/* answer records looked at */
#define DNS_PKT_MAX_JUMPS	32
#define DNS_PKT_MAX_CNAME	8
#define DNS_PKT_UDP_MAX		512
#define DNS_PKT_HEADER		12

#define DNS_C_IN	1
#define DNS_T_CNAME	5
#define DNS_T_OPT	41	/* EDNS0 (RFC 6891) */
#define DNS_EDNS_UDP	1232	/* the UDP answer size we announce */

struct dns_rr {
	uint16_t type;
	uint16_t pref;		/* MX preference */
	uint32_t ttl;
	char value[256];	/* address text, host name ("." = root), or TXT text (printable) */
	/* TLSA (RFC 6698): the three fields, and the data in dns_result.blob */
	uint8_t usage, selector, mtype;
	size_t doff, dlen;
};

struct dns_result {
	int status;		/* DNS_OK, DNS_NOTFOUND, ... (ipc/mailproto.h) */
	int tc;			/* truncated: ask again over TCP */
	const char *reason;	/* static text for status != DNS_OK */
	int secure;		/* the AD bit: the resolver validated the answer (DNSSEC) */
	unsigned char *blob;	/* TLSA data of every record (heap; dns_pkt_result_free) */
	size_t blob_len;
	size_t nrr;
	struct dns_rr rr[DNS_PKT_MAX_RR];
};

/* dns_pkt_query - a recursive query for name/type into out; -1 on a bad name. */
int dns_pkt_query(struct buf *out, uint16_t id, const char *name, uint16_t type,
		  struct buf *why);

/*
 * dns_pkt_dnssec - ask for the resolver's DNSSEC verdict in a query made by
 * dns_pkt_query: the AD bit (RFC 6840 5.7), and with do_bit an EDNS0 OPT
 * record with the DO bit (RFC 3225), as Postfix's RES_USE_DNSSEC.
 */
void dns_pkt_dnssec(struct buf *query, int do_bit);

/*
 * dns_pkt_parse - 0: p is the answer to (id, qname, qtype) and *res says
 * what it means (a malformed body is a TEMPFAIL); -1: p is not an answer to
 * that question at all (wrong id, question, or not even a header): ignore it
 * and keep waiting for the real one.
 */
int dns_pkt_parse(const unsigned char *p, size_t len, uint16_t id, const char *qname,
		  uint16_t qtype, struct dns_result *res, struct buf *why);

/* dns_pkt_result_free - the heap part of a parsed answer (TLSA data). */
void dns_pkt_result_free(struct dns_result *res);

/*
 * dns_pkt_name - read the (possibly compressed) name at off into out
 * ("" for the root); *next is the offset after it in the record. Returns 0,
 * 1 if the name is well formed but holds bytes unusable in a host name
 * (replaced by '?'), -1 if malformed.
 */
int dns_pkt_name(const unsigned char *p, size_t len, size_t off, char out[256], size_t *next);

#endif
