/*
 * tls_cipher.c - cipher grades and exclusions to OpenSSL cipher strings.
 *
 * Called at start-up with parameter values; never with peer data. A value
 * OpenSSL would read as syntax (':', '+', '@') inside an exclusion is
 * refused rather than passed on, so an exclusion can only remove.
 */
#include <string.h>
#include <strings.h>

#include "tls/tls_cipher.h"

/* Every grade drops what moat never offers; "high" and "medium" also
 * drop suites without forward secrecy, every CBC suite (testssl.sh calls
 * them obsoleted, SHA-256 MACs too) and CCM with its short 8-byte tag: what
 * is left is ECDHE/DHE with AES-GCM, ChaCha20-Poly1305, AES-CCM, ARIA-GCM. */
#define TLS_NEVER	"!aNULL:!eNULL:!EXPORT:!RC4:!3DES:!DES:!MD5:!PSK:!SRP:!DSS"
#define TLS_MODERN	"!kRSA:!SHA1:!CBC:!AESCCM8"

static const struct {
	const char *grade;
	const char *list;
} tls_grades[] = {
	{ "high", "HIGH:" TLS_NEVER ":" TLS_MODERN ":@STRENGTH" },
	{ "medium", "HIGH:MEDIUM:" TLS_NEVER ":" TLS_MODERN ":@STRENGTH" },
	{ "low", "HIGH:MEDIUM:LOW:" TLS_NEVER ":@STRENGTH" },
	{ "export", "HIGH:MEDIUM:LOW:" TLS_NEVER ":@STRENGTH" },	/* Postfix: as low today */
	{ "null", "eNULL:!aNULL" },
};

/* OpenSSL's default TLS 1.3 suites, strongest first. */
static const char *const tls13_suites[] = {
	"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", NULL,
};

static int cipher_excluded(const char *name, char *const *exclude)
{
	for (; exclude && *exclude; exclude++)
		if (strcasecmp(*exclude, name) == 0)
			return 1;
	return 0;
}

int tls_cipher_list(const char *grade, char *const *exclude, struct buf *out, struct buf *why)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < sizeof(tls_grades) / sizeof(tls_grades[0]); i++)
		if (strcasecmp(grade, tls_grades[i].grade) == 0)
			break;
	if (i == sizeof(tls_grades) / sizeof(tls_grades[0])) {
		buf_reset(why);
		(void)buf_printf(why, "unknown TLS cipher grade \"%s\"", grade);
		return -1;
	}
	(void)buf_append_str(out, tls_grades[i].list);
	for (; exclude && *exclude; exclude++) {
		if (**exclude == 0 || strpbrk(*exclude, ":+@!-, \t") != NULL) {
			buf_reset(why);
			(void)buf_printf(why, "bad cipher exclusion \"%s\"", *exclude);
			return -1;
		}
		(void)buf_printf(out, ":!%s", *exclude);
	}
	return 0;
}

void tls_cipher_suites(char *const *exclude, struct buf *out)
{
	buf_reset(out);
	for (const char *const *s = tls13_suites; *s; s++)
		if (!cipher_excluded(*s, exclude))
			(void)buf_printf(out, "%s%s", out->len ? ":" : "", *s);
}

int tls_cipher_apply(SSL_CTX *ctx, const char *grade, char *const *exclude, struct buf *why)
{
	struct buf list = BUF_INIT, suites = BUF_INIT;
	int r = -1;

	if (tls_cipher_list(grade, exclude, &list, why) < 0)
		goto out;
	tls_cipher_suites(exclude, &suites);
	buf_reset(why);
	if (!SSL_CTX_set_ciphersuites(ctx, buf_str(&suites))) {
		(void)buf_set_str(why, "OpenSSL refused the TLS 1.3 suites");
		goto out;
	}
	/* No TLS 1.2 cipher left: only TLS 1.3 remains, if any of its suites is. */
	if (!SSL_CTX_set_cipher_list(ctx, buf_str(&list))
	    && (suites.len == 0 || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)
		|| SSL_CTX_get_max_proto_version(ctx) == TLS1_2_VERSION)) {
		(void)buf_printf(why, "no cipher left by grade \"%s\" and the exclusions", grade);
		goto out;
	}
	/* No TLS 1.3 suite left: TLS 1.2 only, if the range has it. */
	if (suites.len == 0 && (SSL_CTX_get_min_proto_version(ctx) == TLS1_3_VERSION
				|| !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION))) {
		(void)buf_printf(why, "no cipher left by grade \"%s\" and the exclusions", grade);
		goto out;
	}
	r = 0;
out:
	buf_free(&list);
	buf_free(&suites);
	return r;
}
