/*
 * fuzz_hostname.c - libFuzzer target for mail/hostname.c: the checks on a
 * host name that a PTR record (chosen by whoever owns the reverse zone)
 * gives for a client.
 *
 * The input is a name as the DNS parser hands it on. A name hostname_valid
 * accepts must also be a valid next-hop name and RFC 5321 domain, and a
 * name the dns stage can ask for (smtpd's forward check sends exactly this
 * query), and it must not end in a numeric label. hostname_from_dns must
 * agree with hostname_valid after one trailing dot. The input's first 16
 * bytes as an IPv4 and an IPv6 address give PTR query names that must be
 * valid host names and valid queries. A crash, a sanitizer report, a leak
 * or an abort here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipc/mailproto.h"
#include "lib/xmem.h"
#include "mail/addr.h"
#include "mail/dns_pkt.h"
#include "mail/hostname.h"
#include "mail/nexthop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_askable - the dns stage can put name into a query. */
static void fuzz_askable(const char *name)
{
	struct buf q = BUF_INIT, why = BUF_INIT;

	if (dns_pkt_query(&q, 1, name, DNS_T_A, &why) < 0)
		abort();
	buf_free(&q);
	buf_free(&why);
}

/* fuzz_numeric_tail - the last label is all digits: an address posing as a name. */
static int fuzz_numeric_tail(const char *s, size_t len)
{
	const char *dot = memrchr(s, '.', len);
	size_t start = dot ? (size_t)(dot - s) + 1 : 0;

	for (size_t i = start; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return start < len;
}

static void fuzz_reverse(const uint8_t *data, size_t size)
{
	unsigned char ip[16] = { 0 };
	struct buf out = BUF_INIT;

	memcpy(ip, data, size < 16 ? size : 16);
	if (hostname_reverse(AF_INET, ip, &out) < 0 || !hostname_valid(out.data, out.len))
		abort();
	fuzz_askable(buf_str(&out));
	if (hostname_reverse(AF_INET6, ip, &out) < 0 || !hostname_valid(out.data, out.len))
		abort();
	fuzz_askable(buf_str(&out));
	if (hostname_reverse(AF_UNIX, ip, &out) != -1)
		abort();
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf out = BUF_INIT;
	char *name;
	size_t n;

	if (hostname_valid(s, size)) {
		if (size > HOSTNAME_MAX || !nexthop_valid_hostname(s, size) || !addr_domain_valid(s, size)
		    || fuzz_numeric_tail(s, size))
			abort();
		name = xstrndup(s, size);
		fuzz_askable(name);
		xfree(name);
	}
	name = xmalloc(size + 1);
	memcpy(name, data, size);
	name[size] = 0;
	n = strlen(name);
	if (hostname_from_dns(name, &out) == 0) {
		if (n > 0 && name[n - 1] == '.')
			n--;
		if (out.len != n || memcmp(out.data, name, n) != 0 || !hostname_valid(out.data, out.len))
			abort();
	} else if (out.len != 0 || hostname_valid(name, n > 0 && name[n - 1] == '.' ? n - 1 : n)) {
		abort();
	}
	xfree(name);
	buf_free(&out);
	fuzz_reverse(data, size);
	return 0;
}
