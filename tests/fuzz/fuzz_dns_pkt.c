/*
 * fuzz_dns_pkt.c - libFuzzer target for mail/dns_pkt.c.
 *
 * The input is a DNS answer as a hostile resolver might send it. It is
 * parsed against the question its own header and question section claim
 * (so the fuzzer gets past the id/question checks), for each query type the
 * dns stage asks (TLSA data must lie inside its blob), and every name offset is decoded directly too. A crash, a
 * sanitizer report, a hang or an unterminated value is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ipc/mailproto.h"
#include "mail/dns_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_PTR, DNS_T_TLSA };
	static struct dns_result res;
	struct buf why = BUF_INIT;
	char qname[256];
	size_t next;
	uint16_t id = size >= 2 ? (uint16_t)((data[0] << 8) | data[1]) : 0;

	if (size > 65535)
		return 0;
	if (dns_pkt_name(data, size, DNS_PKT_HEADER, qname, &next) != 0)
		memcpy(qname, "example.com", 12);
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		if (dns_pkt_parse(data, size, id, qname, types[t], &res, &why) == 0)
			for (size_t i = 0; i < res.nrr; i++)
				if (strlen(res.rr[i].value) >= sizeof(res.rr[i].value)
				    || res.rr[i].doff + res.rr[i].dlen > res.blob_len)
					__builtin_trap();
		dns_pkt_result_free(&res);
	}
	for (size_t off = 0; off < size && off < 64; off++)
		(void)dns_pkt_name(data, size, off, qname, &next);
	buf_free(&why);
	return 0;
}
