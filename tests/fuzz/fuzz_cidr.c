/*
 * fuzz_cidr.c - libFuzzer target for mail/cidr.c (mynetworks and the like).
 *
 * Each input line is one list entry as main.cf gives it ("192.0.2.0/24",
 * "[2001:db8::]/32", "!10.0.0.1") and, when it parses as an address, also a
 * client address to match. An entry that parses must print (cidr_format)
 * to text that parses back to the same entry; an address must match a list
 * of itself (as a host route, and as an IPv4-mapped IPv6 address for an
 * IPv4 one) and must be matched by an entry built from its own network. An
 * IPv4-mapped entry must behave as the IPv4 network it names. A
 * crash, a sanitizer report, a leak or an abort here is a bug.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/xmem.h"
#include "mail/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_round_trip - the last entry of l, printed and parsed again, is itself. */
static void fuzz_round_trip(const struct cidr_list *l)
{
	const struct cidr_entry *e = &l->v[l->n - 1];
	struct cidr_list again;
	struct buf text = BUF_INIT, err = BUF_INIT;

	cidr_list_init(&again);
	cidr_format(e, &text);
	if (cidr_list_add(&again, buf_str(&text), &err) < 0 || again.n != 1
	    || again.v[0].family != e->family || again.v[0].bits != e->bits
	    || memcmp(again.v[0].net, e->net, sizeof(e->net)) != 0)
		abort();
	cidr_list_free(&again);
	buf_free(&text);
	buf_free(&err);
}

/* fuzz_address - a client address: it matches itself, mapped or not. */
static void fuzz_address(const struct cidr_list *l, int family, const unsigned char *ip)
{
	struct cidr_list self;
	unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned bits;

	(void)cidr_list_match(l, family, ip);
	cidr_list_init(&self);
	cidr_list_add_addr(&self, family, ip, 128);
	if (!cidr_list_match(&self, family, ip))
		abort();
	if (family == AF_INET) {
		memcpy(mapped + 12, ip, 4);
		if (!cidr_list_match(&self, AF_INET6, mapped))
			abort();
	}
	cidr_list_free(&self);
	/* A network around it; a mapped address is an IPv4 one, so only an
	 * entry of at least 96 bits (an IPv4 network in disguise) holds it. */
	bits = family == AF_INET ? ip[0] % 33u : ip[15] % 129u;
	if (family == AF_INET6 && memcmp(ip, mapped, 12) == 0 && bits < 96)
		bits += 96 - bits % 96;
	cidr_list_init(&self);
	cidr_list_add_addr(&self, family, ip, bits);
	if (!cidr_list_match(&self, family, ip))
		abort();
	cidr_list_free(&self);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1), *line, *save = NULL;
	struct cidr_list l;
	struct buf err = BUF_INIT;

	memcpy(text, data, size);
	text[size] = 0;
	cidr_list_init(&l);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned char ip[16];
		int family;

		buf_reset(&err);
		if (cidr_list_add(&l, line, &err) == 0)
			fuzz_round_trip(&l);
		else if (err.len == 0)
			abort();
		if (cidr_parse_addr(line, &family, ip) == 0) {
			if (family != AF_INET && family != AF_INET6)
				abort();
			fuzz_address(&l, family, ip);
		}
	}
	cidr_list_free(&l);
	buf_free(&err);
	xfree(text);
	return 0;
}
