/*
 * fuzz_nexthop.c - libFuzzer target for mail/nexthop.c and the transport
 * split of mail/resolve.c: the next hop the smtp stage connects to, which
 * comes from relayhost, a transport value or a recipient's domain.
 *
 * The input is one value as a string. A next hop that parses must have a
 * host that is an address of its family (a literal) or a valid host name,
 * a port in 1..65535, and no MX lookup exactly when it was in brackets. A
 * transport value that splits must have a service of [A-Za-z0-9._-]{1,64}
 * and give back the rest as its next hop. A crash, a sanitizer report, a
 * leak or an abort here is a bug.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/xmem.h"
#include "mail/nexthop.h"
#include "mail/resolve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_nexthop(const char *s)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;
	unsigned char ip[16];
	size_t n;

	if (nexthop_parse(s, 25, &nh, &why) < 0) {
		if (why.len == 0)
			abort();
		buf_free(&why);
		return;
	}
	n = strnlen(nh.host, sizeof(nh.host));
	if (n == 0 || n == sizeof(nh.host) || nh.port < 1 || nh.port > 65535
	    || nh.no_mx != (s[0] == '['))
		abort();
	if (nh.family ? inet_pton(nh.family, nh.host, ip) != 1 : !nexthop_valid_hostname(nh.host, n))
		abort();
	if (nh.family && !nh.no_mx)
		abort();	/* an address without brackets is a name to look up */
	buf_free(&why);
}

static void fuzz_transport(const char *s)
{
	struct buf service = BUF_INIT, nexthop = BUF_INIT;
	const char *colon = strchr(s, ':');

	if (resolve_split_transport(s, &service, &nexthop) == 0) {
		if (service.len == 0 || service.len > 64
		    || strspn(service.data, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789._-") != service.len
		    || strcmp(buf_str(&nexthop), colon ? colon + 1 : "") != 0)
			abort();
		if (nexthop.len)
			fuzz_nexthop(buf_str(&nexthop));
	}
	buf_free(&service);
	buf_free(&nexthop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	unsigned port;

	memcpy(s, data, size);
	s[size] = 0;
	fuzz_nexthop(s);
	fuzz_transport(s);
	if (nexthop_port(s, &port) == 0 && (port < 1 || port > 65535))
		abort();
	xfree(s);
	return 0;
}
