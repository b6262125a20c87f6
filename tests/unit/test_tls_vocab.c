/*
 * test_tls_vocab.c - unit tests for tls/: Postfix protocol lists to the
 * versions an SSL_CTX negotiates, cipher grades and exclusions to what
 * OpenSSL would offer, level names and the obsolete mapping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tls/tls_cipher.h"
#include "tls/tls_level.h"
#include "tls/tls_proto.h"

/* split - a writable NULL-terminated list from "a b c". */
static char **split(char *s, char **v, size_t max)
{
	size_t n = 0;

	for (char *t = strtok(s, ", "); t && n + 1 < max; t = strtok(NULL, ", "))
		v[n++] = t;
	v[n] = NULL;
	return v;
}

static int proto_mask(const char *spec, unsigned *mask)
{
	char tmp[256], *v[16];
	struct buf why = BUF_INIT;
	int r;

	snprintf(tmp, sizeof(tmp), "%s", spec);
	r = tls_proto_parse(split(tmp, v, 16), mask, &why);
	buf_free(&why);
	return r;
}

static void test_proto_forms(void **state)
{
	unsigned m;

	(void)state;
	assert_int_equal(proto_mask(">=TLSv1.2", &m), 0);
	assert_int_equal(m, TLS_P_TLSv1_2 | TLS_P_TLSv1_3);
	assert_int_equal(proto_mask("!SSLv2, !SSLv3, !TLSv1", &m), 0);
	assert_int_equal(m, TLS_P_TLSv1_1 | TLS_P_TLSv1_2 | TLS_P_TLSv1_3);
	assert_int_equal(proto_mask("TLSv1.2 TLSv1.3", &m), 0);
	assert_int_equal(m, TLS_P_TLSv1_2 | TLS_P_TLSv1_3);
	assert_int_equal(proto_mask("tlsv1.3", &m), 0);
	assert_int_equal(m, TLS_P_TLSv1_3);
	assert_int_equal(proto_mask(">=TLSv1, <=TLSv1.2", &m), 0);
	assert_int_equal(m, TLS_P_TLSv1 | TLS_P_TLSv1_1 | TLS_P_TLSv1_2);
	assert_int_equal(proto_mask("", &m), 0);
	assert_int_equal(m, TLS_P_USABLE);
	/* SSLv3 is a known name but never enabled; nothing left is an error. */
	assert_int_equal(proto_mask("SSLv3", &m), -1);
	assert_int_equal(proto_mask("!TLSv1 !TLSv1.1 !TLSv1.2 !TLSv1.3", &m), -1);
	assert_int_equal(proto_mask(">=TLSv1.3 <=TLSv1.2", &m), -1);
	assert_int_equal(proto_mask("TLSv1.4", &m), -1);
	assert_int_equal(proto_mask(">=TLS1.2", &m), -1);
}

static void test_proto_apply(void **state)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	unsigned m;

	(void)state;
	assert_int_equal(proto_mask(">=TLSv1.2", &m), 0);
	assert_int_equal(tls_proto_apply(ctx, m), 0);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	assert_int_equal(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
	SSL_CTX_free(ctx);
	/* A gap: TLSv1 and TLSv1.2 without TLSv1.1. */
	ctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(proto_mask("TLSv1 TLSv1.2", &m), 0);
	assert_int_equal(tls_proto_apply(ctx, m), 0);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_VERSION);
	assert_int_equal(SSL_CTX_get_max_proto_version(ctx), TLS1_2_VERSION);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_TLSv1_1);
	assert_false(SSL_CTX_get_options(ctx) & SSL_OP_NO_TLSv1_2);
	SSL_CTX_free(ctx);
}

/* offered - 1 if a client of ctx would offer the named cipher. */
static int offered(SSL_CTX *ctx, const char *name)
{
	SSL *ssl = SSL_new(ctx);
	STACK_OF(SSL_CIPHER) *sk = SSL_get1_supported_ciphers(ssl);
	int found = 0;

	for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); i++)
		found |= strcmp(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)), name) == 0;
	sk_SSL_CIPHER_free(sk);
	SSL_free(ssl);
	return found;
}

static SSL_CTX *grade_ctx(const char *grade, const char *excl, int expect)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char tmp[256], *v[16];
	struct buf why = BUF_INIT;

	snprintf(tmp, sizeof(tmp), "%s", excl);
	assert_int_equal(tls_proto_apply(ctx, TLS_P_TLSv1_2 | TLS_P_TLSv1_3), 0);
	assert_int_equal(tls_cipher_apply(ctx, grade, split(tmp, v, 16), &why), expect);
	buf_free(&why);
	return ctx;
}

static void test_grades(void **state)
{
	SSL_CTX *ctx;

	(void)state;
	ctx = grade_ctx("medium", "", 0);
	assert_true(offered(ctx, "ECDHE-RSA-AES256-GCM-SHA384"));
	assert_true(offered(ctx, "TLS_AES_256_GCM_SHA384"));
	/* What moat never offers by default: CBC (SHA-1 or SHA-256 MAC), CCM8,
	 * static RSA, anonymous. */
	assert_false(offered(ctx, "ECDHE-RSA-AES128-SHA"));
	assert_false(offered(ctx, "ECDHE-RSA-AES128-SHA256"));
	assert_false(offered(ctx, "ECDHE-ECDSA-AES128-CCM8"));
	assert_true(offered(ctx, "ECDHE-ECDSA-AES128-CCM"));
	assert_false(offered(ctx, "AES256-GCM-SHA384"));
	assert_false(offered(ctx, "ADH-AES256-GCM-SHA384"));
	assert_false(offered(ctx, "DES-CBC3-SHA"));
	SSL_CTX_free(ctx);
	ctx = grade_ctx("low", "", 0);
	assert_true(offered(ctx, "ECDHE-RSA-AES128-SHA"));
	assert_false(offered(ctx, "ADH-AES256-GCM-SHA384"));
	SSL_CTX_free(ctx);
	ctx = grade_ctx("HIGH", "AESGCM TLS_AES_128_GCM_SHA256", 0);
	assert_false(offered(ctx, "ECDHE-RSA-AES256-GCM-SHA384"));
	assert_true(offered(ctx, "ECDHE-RSA-CHACHA20-POLY1305"));
	assert_false(offered(ctx, "TLS_AES_128_GCM_SHA256"));
	assert_true(offered(ctx, "TLS_AES_256_GCM_SHA384"));
	SSL_CTX_free(ctx);
	SSL_CTX_free(grade_ctx("strong", "", -1));
	SSL_CTX_free(grade_ctx("medium", "RC4:ALL", -1));
	SSL_CTX_free(grade_ctx("medium", "AESGCM CHACHA20 TLS_AES_256_GCM_SHA384 "
			       "TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_GCM_SHA256 AES CAMELLIA ARIA", -1));
}

static void test_grade_only_tls13_left(void **state)
{
	SSL_CTX *ctx = grade_ctx("medium", "AESGCM CHACHA20 AES CAMELLIA ARIA", 0);

	(void)state;
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	assert_true(offered(ctx, "TLS_AES_256_GCM_SHA384"));
	SSL_CTX_free(ctx);
	ctx = grade_ctx("medium", "TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 "
			"TLS_AES_128_GCM_SHA256", 0);
	assert_int_equal(SSL_CTX_get_max_proto_version(ctx), TLS1_2_VERSION);
	SSL_CTX_free(ctx);
}

static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(tls_level_parse("Encrypt"), TLS_LEV_ENCRYPT);
	assert_int_equal(tls_level_parse("dane-only"), TLS_LEV_DANE_ONLY);
	assert_int_equal(tls_level_parse("must"), -1);
	assert_int_equal(tls_level_client("", 0, 0, 1), TLS_LEV_NONE);
	assert_int_equal(tls_level_client("", 1, 0, 1), TLS_LEV_MAY);
	assert_int_equal(tls_level_client("", 1, 1, 1), TLS_LEV_VERIFY);
	assert_int_equal(tls_level_client("", 0, 1, 0), TLS_LEV_ENCRYPT);
	assert_int_equal(tls_level_client("none", 1, 1, 1), TLS_LEV_NONE);
	assert_string_equal(tls_level_name(TLS_LEV_SECURE), "secure");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_forms),
		cmocka_unit_test(test_proto_apply),
		cmocka_unit_test(test_grades),
		cmocka_unit_test(test_grade_only_tls13_left),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
