/*
 * fuzz_addr.c - libFuzzer target for mail/addr.c (RFC 5321 paths).
 *
 * The input is parsed as a path with every flag combination. On success the
 * result must hold its invariants: bounded length, '@' offset inside the
 * address, the domain valid (or a literal that parses as an IP), UTF-8 valid
 * when flagged. A crash, a sanitizer report, a leak or an abort is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_path p;
	const char *s = (const char *)data;

	addr_path_init(&p);
	for (unsigned f = 0; f < 4; f++) {
		size_t used;
		const char *why;

		if (addr_parse_path(s, size, f, &p, &used, &why) != ADDR_OK)
			continue;
		if (used > size || p.addr.len > ADDR_PATH_MAX || p.at > p.addr.len)
			abort();
		if ((p.flags & ADDR_F_NULL) && p.addr.len != 0)
			abort();
		if (!(p.flags & (ADDR_F_NULL | ADDR_F_NODOMAIN))) {
			const char *d = addr_domain(&p);
			unsigned char ip[16];
			int fam;

			if ((p.flags & ADDR_F_LITERAL) ? addr_literal_ip(d, strlen(d), &fam, ip) < 0
						       : !addr_domain_valid(d, strlen(d)))
				abort();
		}
		if (!addr_utf8_valid((const unsigned char *)p.addr.data, p.addr.len))
			abort();
		(void)addr_domain_fqdn(addr_domain(&p));
	}
	addr_path_free(&p);
	return 0;
}
