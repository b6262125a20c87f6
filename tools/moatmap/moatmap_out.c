/*
 * moatmap_out.c - moatmap's output lines and its -F values (postmap -F:
 * a value names files whose contents are stored base64-encoded, as
 * tls_server_sni_maps wants; queries and listings decode them again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"
#include "tools/moatmap/moatmap.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_encode(const unsigned char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		char q[4] = { b64[v >> 18], b64[(v >> 12) & 63],
			      i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '=' };

		if (buf_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

/* b64_decode - -1 if text is not base64. */
static int b64_decode(const char *text, size_t n, struct buf *out)
{
	unsigned v = 0;
	int bits = 0;

	buf_reset(out);
	for (size_t i = 0; i < n && text[i] != '='; i++) {
		const char *c = strchr(b64, text[i]);

		if (c == NULL || text[i] == 0)
			return -1;
		v = (v << 6) | (unsigned)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_putc(out, (int)((v >> bits) & 0xff)) < 0)
				return -1;
		}
	}
	return 0;
}

void moatmap_print(const struct moatmap *mm, const char *key, const char *value, size_t vlen,
		   struct buf *scratch)
{
	if (mm->base64) {
		if (b64_decode(value, vlen, scratch) < 0)
			msg_fatal("value of \"%s\" is not base64", key ? key : "the key");
		value = buf_str(scratch);
		vlen = scratch->len;
	}
	if (key != NULL)
		printf("%s\t", key);
	fwrite(value, 1, vlen, stdout);
	putchar('\n');	/* postmap -F too, after a decoded value's own newline */
	if (ferror(stdout))
		msg_fatal("write: %m");
}

int moatmap_files_base64(const char *value, struct buf *out, struct buf *err)
{
	struct buf all = BUF_INIT;
	char *list = strdup(value), *save = NULL, *name;
	int rc = 0;

	if (list == NULL)
		msg_fatal("out of memory");
	buf_reset(out);
	for (name = strtok_r(list, ", \t", &save); name && rc == 0;
	     name = strtok_r(NULL, ", \t", &save)) {
		char chunk[8192];
		int fd = open(name, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		if (fd < 0) {
			buf_printf(err, "open %s: %s", name, strerror(errno));
			rc = -1;
			break;
		}
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			if (buf_append(&all, chunk, (size_t)n) < 0)
				n = -1;
		if (n < 0) {
			buf_printf(err, "read %s: %s", name, strerror(errno));
			rc = -1;
		}
		close(fd);
	}
	if (rc == 0 && b64_encode((const unsigned char *)buf_str(&all), all.len, out) < 0) {
		buf_printf(err, "value too large");
		rc = -1;
	}
	free(list);
	buf_free(&all);
	return rc;
}

char *moatmap_lower(char *key)
{
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return key;
}
