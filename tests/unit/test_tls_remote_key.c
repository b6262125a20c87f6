/*
 * test_tls_remote_key.c - unit tests for tls/tls_remote_key.c: real TLS 1.3
 * and 1.2 handshakes, over a BIO pair, between an OpenSSL server whose
 * private key is a remote key (the signer holds the real key elsewhere in
 * the test and signs with tls_key_sign, as the tlskey stage does) and an
 * OpenSSL client that verifies the server's certificate, for RSA-2048 and
 * P-256; the request checks; and a signer that fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/tls_key_sign.h"
#include "tls/tls_remote_key.h"

/* The key "held elsewhere", and what the server asked of it. */
struct signer {
	EVP_PKEY *real;
	int calls;
	int fail;
	struct tls_sign_req last;
};

static int test_signer(void *arg, const struct tls_sign_req *req,
		       unsigned char *sig, size_t sig_max, size_t *sig_len)
{
	struct signer *s = arg;
	const char *why = NULL;

	s->calls++;
	s->last = *req;
	s->last.digest = NULL;
	if (s->fail)
		return -1;
	return tls_key_sign(s->real, req, sig, sig_max, sig_len, &why);
}

static EVP_PKEY *key_new(int ec)
{
	EVP_PKEY *key = ec ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
			   : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	assert_non_null(key);
	return key;
}

static X509 *cert_new(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_true(X509_set_pubkey(x, key));
	name = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					       (const unsigned char *)"mx.example.test", -1, -1, 0));
	assert_true(X509_set_issuer_name(x, name));
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static SSL_CTX *server_ctx(X509 *cert, EVP_PKEY *remote, int max_version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_non_null(ctx);
	assert_true(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION));
	assert_true(SSL_CTX_set_max_proto_version(ctx, max_version));
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, remote), 1);
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	return ctx;
}

static SSL_CTX *client_ctx(X509 *trusted, const char *sigalgs)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	assert_true(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trusted));
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (sigalgs != NULL)
		assert_true(SSL_CTX_set1_sigalgs_list(ctx, sigalgs));
	return ctx;
}

/* Both sides step until both are done or one fails; 1 when both are done. */
static int handshake(SSL *srv, SSL *cli)
{
	int srv_done = 0, cli_done = 0;

	for (int i = 0; i < 100 && !(srv_done && cli_done); i++) {
		if (!cli_done) {
			int r = SSL_do_handshake(cli);

			if (r == 1)
				cli_done = 1;
			else if (SSL_get_error(cli, r) != SSL_ERROR_WANT_READ)
				return 0;
		}
		if (!srv_done) {
			int r = SSL_do_handshake(srv);

			if (r == 1)
				srv_done = 1;
			else if (SSL_get_error(srv, r) != SSL_ERROR_WANT_READ)
				return 0;
		}
	}
	return srv_done && cli_done;
}

struct run {
	int ok;
	int version;
	long verify;
};

static struct run run_handshake(int ec, int max_version, const char *sigalgs,
				struct signer *s)
{
	X509 *cert;
	EVP_PKEY *remote;
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	BIO *bs, *bc;
	struct run r;

	s->real = key_new(ec);
	cert = cert_new(s->real);
	remote = tls_remote_key_new(cert, test_signer, s);
	assert_non_null(remote);
	sctx = server_ctx(cert, remote, max_version);
	cctx = client_ctx(cert, sigalgs);
	srv = SSL_new(sctx);
	cli = SSL_new(cctx);
	assert_true(srv != NULL && cli != NULL);
	assert_true(BIO_new_bio_pair(&bs, 0, &bc, 0));
	SSL_set_bio(srv, bs, bs);
	SSL_set_bio(cli, bc, bc);
	SSL_set_accept_state(srv);
	SSL_set_connect_state(cli);
	assert_true(SSL_set1_host(cli, "mx.example.test"));
	r.ok = handshake(srv, cli);
	r.version = SSL_version(cli);
	r.verify = SSL_get_verify_result(cli);
	SSL_free(srv);
	SSL_free(cli);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	EVP_PKEY_free(remote);
	X509_free(cert);
	EVP_PKEY_free(s->real);
	ERR_clear_error();
	return r;
}

static void expect_ok(struct run r, int version, struct signer *s, unsigned alg)
{
	assert_true(r.ok);
	assert_int_equal(r.version, version);
	assert_int_equal(r.verify, X509_V_OK);
	/* One signature per handshake, made by the signer and nothing else. */
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->last.alg, alg);
	assert_int_equal(s->last.digest_len, tls_sign_md_size(s->last.md));
}

static void test_tls13_rsa(void **state)
{
	struct signer s = { 0 };

	(void)state;
	expect_ok(run_handshake(0, TLS1_3_VERSION, NULL, &s), TLS1_3_VERSION, &s,
		  TLS_SIGN_RSA_PSS);
}

static void test_tls13_p256(void **state)
{
	struct signer s = { 0 };

	(void)state;
	expect_ok(run_handshake(1, TLS1_3_VERSION, NULL, &s), TLS1_3_VERSION, &s,
		  TLS_SIGN_ECDSA);
	assert_int_equal(s.last.md, TLS_SIGN_SHA256);
}

static void test_tls12_rsa_pss(void **state)
{
	struct signer s = { 0 };

	(void)state;
	expect_ok(run_handshake(0, TLS1_2_VERSION, NULL, &s), TLS1_2_VERSION, &s,
		  TLS_SIGN_RSA_PSS);
}

static void test_tls12_rsa_pkcs1(void **state)
{
	struct signer s = { 0 };

	(void)state;
	expect_ok(run_handshake(0, TLS1_2_VERSION, "RSA+SHA384", &s), TLS1_2_VERSION, &s,
		  TLS_SIGN_RSA_PKCS1);
	assert_int_equal(s.last.md, TLS_SIGN_SHA384);
}

static void test_tls12_p256(void **state)
{
	struct signer s = { 0 };

	(void)state;
	expect_ok(run_handshake(1, TLS1_2_VERSION, NULL, &s), TLS1_2_VERSION, &s,
		  TLS_SIGN_ECDSA);
}

/* A signer that says no fails the handshake: nothing signs in its place. */
static void test_signer_failure_fails_handshake(void **state)
{
	struct signer s = { .fail = 1 };
	struct run r;

	(void)state;
	r = run_handshake(0, TLS1_3_VERSION, NULL, &s);
	assert_false(r.ok);
	assert_int_equal(s.calls, 1);
	s = (struct signer){ .fail = 1 };
	r = run_handshake(1, TLS1_2_VERSION, NULL, &s);
	assert_false(r.ok);
	assert_int_equal(s.calls, 1);
}

/* The remote key has the certificate's public half and no private half. */
static void test_remote_key_holds_no_secret(void **state)
{
	struct signer s = { 0 };
	EVP_PKEY *remote;
	X509 *cert;
	BIGNUM *n = NULL, *d = NULL;

	(void)state;
	s.real = key_new(0);
	cert = cert_new(s.real);
	remote = tls_remote_key_new(cert, test_signer, &s);
	assert_non_null(remote);
	assert_true(EVP_PKEY_is_a(remote, "RSA"));
	assert_int_equal(EVP_PKEY_get_bits(remote), 2048);
	assert_int_equal(EVP_PKEY_get_size(remote), 256);
	assert_true(EVP_PKEY_get_bn_param(remote, OSSL_PKEY_PARAM_RSA_N, &n));
	assert_false(EVP_PKEY_get_bn_param(remote, OSSL_PKEY_PARAM_RSA_D, &d));
	assert_int_equal(EVP_PKEY_eq(remote, X509_get0_pubkey(cert)), 1);
	BN_free(n);
	EVP_PKEY_free(remote);
	X509_free(cert);
	EVP_PKEY_free(s.real);
	ERR_clear_error();
}

/* Ed25519 certificates cannot be remote (TLS signs no digest with them). */
static void test_remote_key_refuses_other_types(void **state)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *cert;

	(void)state;
	assert_non_null(ed);
	cert = X509_new();
	assert_true(X509_set_pubkey(cert, ed));
	assert_null(tls_remote_key_new(cert, test_signer, NULL));
	X509_free(cert);
	EVP_PKEY_free(ed);
}

static void test_sign_req_check(void **state)
{
	unsigned char d[64] = { 0 };
	struct tls_sign_req req = { TLS_SIGN_RSA_PSS, TLS_SIGN_SHA256, d, 32 };
	const char *why = NULL;

	(void)state;
	assert_int_equal(tls_sign_req_check(&req, &why), 0);
	req.digest_len = 33;
	assert_int_equal(tls_sign_req_check(&req, &why), -1);
	assert_string_equal(why, "digest length does not match its algorithm");
	req.digest_len = 64;
	req.md = 9;
	assert_int_equal(tls_sign_req_check(&req, &why), -1);
	req.md = TLS_SIGN_SHA512;
	assert_int_equal(tls_sign_req_check(&req, &why), 0);
	req.alg = 4;
	assert_int_equal(tls_sign_req_check(&req, &why), -1);
	req.alg = 0;
	assert_int_equal(tls_sign_req_check(&req, &why), -1);
}

/* tls_key_sign refuses a scheme that does not fit the key it holds. */
static void test_key_sign_refuses_mismatch(void **state)
{
	unsigned char d[32] = { 1 }, sig[TLS_SIGN_SIG_MAX];
	struct tls_sign_req req = { TLS_SIGN_ECDSA, TLS_SIGN_SHA256, d, 32 };
	EVP_PKEY *rsa = key_new(0), *ec = key_new(1);
	const char *why = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(tls_key_sign(rsa, &req, sig, sizeof(sig), &len, &why), -1);
	assert_string_equal(why, "signature algorithm does not fit the key");
	req.alg = TLS_SIGN_RSA_PSS;
	assert_int_equal(tls_key_sign(ec, &req, sig, sizeof(sig), &len, &why), -1);
	assert_int_equal(tls_key_sign(rsa, &req, sig, sizeof(sig), &len, &why), 0);
	assert_int_equal(len, 256);
	assert_int_equal(tls_key_sign(rsa, &req, sig, 255, &len, &why), -1);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls13_rsa),
		cmocka_unit_test(test_tls13_p256),
		cmocka_unit_test(test_tls12_rsa_pss),
		cmocka_unit_test(test_tls12_rsa_pkcs1),
		cmocka_unit_test(test_tls12_p256),
		cmocka_unit_test(test_signer_failure_fails_handshake),
		cmocka_unit_test(test_remote_key_holds_no_secret),
		cmocka_unit_test(test_remote_key_refuses_other_types),
		cmocka_unit_test(test_sign_req_check),
		cmocka_unit_test(test_key_sign_refuses_mismatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
