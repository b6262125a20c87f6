/*
 * fuzz_header.c - libFuzzer target: arbitrary bytes as one raw header field
 * through every helper of mail/header.c. The value must never be longer
 * than the input, and no helper may read outside it (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmem.h"
#include "mail/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = xmemdup(data, size ? size : 1);	/* exact-size copy: ASan sees overreads */
	char *list[] = { "bcc", "received", NULL };
	struct buf b = BUF_INIT;
	size_t colon = 0;

	(void)header_name_len(raw, size, &colon);
	(void)header_is_name(raw, size, "Received");
	(void)header_in_list(raw, size, list);
	if (header_value(&b, raw, size) == 0 && b.len > size)
		abort();
	buf_reset(&b);
	if (header_unfold(&b, raw, size) == 0 && b.len > size)
		abort();
	buf_free(&b);
	xfree(raw);
	return 0;
}
