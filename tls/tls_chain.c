/*
 * tls_chain.c - certificate chains out of PEM text that may hold private
 * keys too (tls_chain.h). Only CERTIFICATE blocks reach OpenSSL's parser;
 * a key block's bytes are skipped by their BEGIN/END lines alone.
 */
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls/tls_chain.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_END "-----END "
#define PEM_DASHES "-----"

struct pem_block {
	const char *label;	/* after "-----BEGIN " */
	size_t label_len;
	const char *start, *end;	/* the whole block, BEGIN line to END line */
};

/* pem_next - the next block at or after *p; 0 when there is none. */
static int pem_next(const char **p, const char *lim, struct pem_block *b)
{
	const char *s = memmem(*p, (size_t)(lim - *p), PEM_BEGIN, sizeof(PEM_BEGIN) - 1), *d, *e;

	if (s == NULL)
		return 0;
	b->label = s + sizeof(PEM_BEGIN) - 1;
	d = memmem(b->label, (size_t)(lim - b->label), PEM_DASHES, sizeof(PEM_DASHES) - 1);
	if (d == NULL)
		return 0;
	b->label_len = (size_t)(d - b->label);
	e = memmem(d, (size_t)(lim - d), PEM_END, sizeof(PEM_END) - 1);
	if (e == NULL || (e = memmem(e + sizeof(PEM_END) - 1, (size_t)(lim - e - sizeof(PEM_END) + 1),
				     PEM_DASHES, sizeof(PEM_DASHES) - 1)) == NULL)
		return 0;
	b->start = s;
	b->end = e + sizeof(PEM_DASHES) - 1;
	*p = b->end;
	return 1;
}

static int label_is(const struct pem_block *b, const char *what)
{
	return b->label_len == strlen(what) && memcmp(b->label, what, b->label_len) == 0;
}

/* label_is_key - "PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY", ... */
static int label_is_key(const struct pem_block *b)
{
	static const char tail[] = "PRIVATE KEY";

	return b->label_len >= sizeof(tail) - 1
	       && memcmp(b->label + b->label_len - (sizeof(tail) - 1), tail, sizeof(tail) - 1) == 0;
}

static X509 *cert_parse(const struct pem_block *b)
{
	BIO *bio = BIO_new_mem_buf(b->start, (int)(b->end - b->start));
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return x;
}

static void subject(X509 *x, struct buf *out)
{
	char *s = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0);

	(void)buf_append_str(out, s ? s : "?");
	OPENSSL_free(s);
}

/* chain_order - every certificate after the leaf issued the one before it. */
static int chain_order(STACK_OF(X509) *chain, int first, struct buf *why)
{
	for (int i = 1; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i - 1), *issuer = sk_X509_value(chain, i);

		if (X509_check_issued(issuer, x) == X509_V_OK)
			continue;
		(void)buf_printf(why, "chain out of order: certificate %d (", first + i + 1);
		subject(issuer, why);
		(void)buf_printf(why, ") did not issue certificate %d (", first + i);
		subject(x, why);
		(void)buf_append_str(why, "); put the leaf first, then each issuer");
		return -1;
	}
	return 0;
}

struct chain_walk {
	STACK_OF(X509) *chain;
	int certs;		/* certificates so far, for messages */
	int after_key;		/* a key block opened the current chain */
	int chains;
};

/* walk_flush - the chain collected so far, checked, to fn; 0 or -1. */
static int walk_flush(struct chain_walk *w, tls_chain_fn fn, void *arg, struct buf *why)
{
	int n = sk_X509_num(w->chain), r = 0;

	if (n == 0 && w->after_key) {
		(void)buf_printf(why, "a private key with no certificate after it "
				 "(after certificate %d)", w->certs);
		r = -1;
	} else if (n > 0) {
		r = chain_order(w->chain, w->certs - n, why) < 0 ? -1 : fn(w->chain, arg, why);
		w->chains++;
	}
	sk_X509_pop_free(w->chain, X509_free);
	w->chain = sk_X509_new_null();
	w->after_key = 0;
	return w->chain == NULL ? -1 : r;
}

int tls_chain_each(const char *pem, size_t len, int split_at_keys, tls_chain_fn fn, void *arg,
		   struct buf *why)
{
	struct chain_walk w = { sk_X509_new_null(), 0, 0, 0 };
	const char *p = pem, *lim = pem + len;
	struct pem_block b;
	int r = w.chain ? 0 : -1;

	while (r == 0 && pem_next(&p, lim, &b)) {
		X509 *x;

		if (label_is_key(&b) && split_at_keys) {
			r = walk_flush(&w, fn, arg, why);
			w.after_key = 1;
		} else if (label_is(&b, "CERTIFICATE")) {
			if ((x = cert_parse(&b)) == NULL || !sk_X509_push(w.chain, x)) {
				X509_free(x);
				(void)buf_printf(why, "certificate %d: not a certificate OpenSSL can read",
						 w.certs + 1);
				r = -1;
			}
			w.certs++;
		}
	}
	if (r == 0)
		r = walk_flush(&w, fn, arg, why);
	sk_X509_pop_free(w.chain, X509_free);
	ERR_clear_error();
	if (r == 0 && w.chains == 0) {
		(void)buf_append_str(why, "no certificate in it");
		r = -1;
	}
	return r < 0 ? -1 : w.chains;
}
