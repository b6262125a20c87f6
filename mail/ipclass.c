/*
 * ipclass.c - classify an IP address as routable or as one of the special
 * ranges the SMTP client refuses (see ipclass.h).
 *
 * Called by the smtp stage for every address it is about to try. Pure
 * function of the bytes; no state, no system calls.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "mail/ipclass.h"

static enum ipclass ipclass_v4(const unsigned char *a)
{
	if (a[0] == 0)
		return IPCLASS_UNSPECIFIED;
	if (a[0] == 127)
		return IPCLASS_LOOPBACK;
	if (a[0] == 169 && a[1] == 254)
		return IPCLASS_LINK_LOCAL;
	if (a[0] >= 224 && a[0] <= 239)
		return IPCLASS_MULTICAST;
	if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
		return IPCLASS_BROADCAST;
	if (a[0] >= 240)
		return IPCLASS_RESERVED;
	return IPCLASS_ROUTABLE;
}

static int ipclass_zero(const unsigned char *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

static enum ipclass ipclass_v6(const unsigned char *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (ipclass_zero(a, 15))
		return a[15] == 1 ? IPCLASS_LOOPBACK : a[15] == 0 ? IPCLASS_UNSPECIFIED
			: IPCLASS_RESERVED;
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 || ipclass_zero(a, 12))
		return ipclass_v4(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02)	/* 6to4: 2002:AABB:CCDD::/48 */
		return ipclass_v4(a + 2);
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return IPCLASS_LINK_LOCAL;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return IPCLASS_RESERVED;	/* site-local, deprecated (RFC 3879) */
	if (a[0] == 0xff)
		return IPCLASS_MULTICAST;
	if (a[0] == 0x01 && ipclass_zero(a + 1, 7))
		return IPCLASS_RESERVED;	/* 100::/64 discard-only (RFC 6666) */
	return IPCLASS_ROUTABLE;
}

enum ipclass ipclass_of(int family, const unsigned char *addr)
{
	return family == AF_INET ? ipclass_v4(addr) : ipclass_v6(addr);
}

int ipclass_of_text(const char *text)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, text, a) == 1)
		return (int)ipclass_v4(a);
	if (inet_pton(AF_INET6, text, a) == 1)
		return (int)ipclass_v6(a);
	return -1;
}

int ipclass_is_self(enum ipclass c)
{
	return c == IPCLASS_LOOPBACK || c == IPCLASS_UNSPECIFIED;
}

const char *ipclass_name(enum ipclass c)
{
	static const char *const names[] = {
		"routable", "loopback", "unspecified", "link-local", "multicast", "broadcast",
		"reserved",
	};

	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "reserved";
}
