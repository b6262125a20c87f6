/*
 * cidr_public.c - how much of the public Internet a network list covers.
 *
 * Called where mynetworks is checked (stagecf/smtpd.c): a list that trusts
 * more public address space than any one organisation was ever allocated
 * makes moat an open relay for whoever sits there. "Public" means global
 * unicast: IPv4 minus the special-purpose blocks of RFC 6890 (private,
 * shared, loopback, link-local, documentation, benchmarking, multicast,
 * reserved), IPv6 2000::/3 minus the documentation prefix. The list is read
 * with first-match semantics, negations included, exactly as
 * cidr_list_match reads it.
 *
 * The count walks the address space as a binary trie and splits a prefix
 * only where an entry lies strictly inside it, so it costs at most
 * (entries x address bits) steps, never one step per address.
 */
#include <netinet/in.h>
#include <string.h>

#include "lib/msg.h"
#include "mail/cidr.h"

static const char *const cidr_public4[] = {
	"!0.0.0.0/8", "!10.0.0.0/8", "!100.64.0.0/10", "!127.0.0.0/8", "!169.254.0.0/16",
	"!172.16.0.0/12", "!192.0.0.0/24", "!192.0.2.0/24", "!192.168.0.0/16", "!198.18.0.0/15",
	"!198.51.100.0/24", "!203.0.113.0/24", "!224.0.0.0/3", "0.0.0.0/0", NULL,
};
static const char *const cidr_public6[] = { "!2001:db8::/32", "2000::/3", NULL };

/* cidr_prefix_eq - the first bits bits of a and b are equal. */
static int cidr_prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	size_t full = bits / 8;
	unsigned rest = bits % 8;
	unsigned char m = (unsigned char)(0xff << (8 - rest));

	if (memcmp(a, b, full) != 0)
		return 0;
	return rest == 0 || (a[full] & m) == (b[full] & m);
}

/* cidr_decide - for the prefix net/bits: 1 if l's first overlapping entry
 * contains it and is positive, 0 if that entry is negative or none
 * overlaps, -1 if an entry lies strictly inside (the prefix must split). */
static int cidr_decide(const struct cidr_list *l, int family, const unsigned char *net,
		       unsigned bits)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct cidr_entry *e = &l->v[i];

		if (e->family != family)
			continue;
		if (!cidr_prefix_eq(e->net, net, e->bits < bits ? e->bits : bits))
			continue;
		if (e->bits <= bits)
			return !e->negate;
		return -1;
	}
	return 0;
}

/* cidr_pow2 - 2^k as a double (k <= 128; no libm for one power). */
static double cidr_pow2(unsigned k)
{
	double v = 1;

	while (k--)
		v *= 2;
	return v;
}

/* cidr_count - addresses under net/bits that both lists match. */
static double cidr_count(const struct cidr_list *l, const struct cidr_list *pub, int family,
			 unsigned char *net, unsigned bits, unsigned maxbits)
{
	int a = cidr_decide(l, family, net, bits), b = cidr_decide(pub, family, net, bits);
	unsigned char bit = (unsigned char)(0x80 >> (bits % 8));
	double n;

	if (a == 0 || b == 0)
		return 0;
	if (a == 1 && b == 1)
		return cidr_pow2(maxbits - bits);
	/* an entry lies strictly inside, so bits < maxbits here */
	n = cidr_count(l, pub, family, net, bits + 1, maxbits);
	net[bits / 8] |= bit;
	n += cidr_count(l, pub, family, net, bits + 1, maxbits);
	net[bits / 8] &= (unsigned char)~bit;
	return n;
}

double cidr_list_public(const struct cidr_list *l, int family)
{
	const char *const *text = family == AF_INET ? cidr_public4 : cidr_public6;
	struct cidr_list pub;
	struct buf err = BUF_INIT;
	unsigned char net[16] = { 0 };
	double n;

	cidr_list_init(&pub);
	for (; *text; text++)
		if (cidr_list_add(&pub, *text, &err) < 0)
			msg_panic("cidr: bad built-in network %s: %s", *text, buf_str(&err));
	n = cidr_count(l, &pub, family, net, 0, family == AF_INET ? 32 : 128);
	cidr_list_free(&pub);
	buf_free(&err);
	return n;
}
