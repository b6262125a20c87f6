/*
 * tlskey_keys.c - the tlskey stage loads its private keys from the fds the
 * broker handed it.
 *
 * The broker passes one -a argument "<parameter>\n<path>" per key file and
 * that file's fd, in order, from STAGE_FD_EXTRA (daemons/broker/keys.c).
 * The layout is the broker's (a mismatch is a bug: fatal); the contents are
 * read here, confined, as PEM: every private key in a file is kept (a
 * chain file holds a key and its certificates), anything else is skipped.
 * Only RSA and EC keys can sign TLS handshakes here. The file's bytes are
 * wiped from memory once parsed; the keys stay, and never leave this stage.
 */
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "daemons/tlskey/tlskey.h"
#include "lib/buf.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "tls/tls_remote_key.h"

#define TLSKEY_FILE_MAX	((size_t)1 << 20)	/* a PEM file of keys and a chain */

/* keys_read - the whole file behind fd into b; -1 (errno) or too big. */
static int keys_read(int fd, struct buf *b)
{
	for (;;) {
		ssize_t n;

		if (buf_reserve(b, 4096) < 0)
			return -1;
		n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		b->data[b->len] = 0;
	}
}

static void keys_add(struct tlskey_keys *k, EVP_PKEY *key, const char *where)
{
	struct tlskey_key *tk;

	if (!EVP_PKEY_is_a(key, "RSA") && !EVP_PKEY_is_a(key, "EC")) {
		msg_error("%s: a %s key: only RSA and EC keys sign TLS handshakes here", where,
			  EVP_PKEY_get0_type_name(key));
		k->broken++;
		return;
	}
	k->v = xreallocarray(k->v, k->n + 1, sizeof(*k->v));
	tk = &k->v[k->n];
	if (tls_remote_key_id(key, tk->id) < 0 || !EVP_PKEY_up_ref(key)) {
		msg_error("%s: cannot compute the key's public key id", where);
		return;
	}
	tk->key = key;
	tk->where = xstrdup(where);
	k->n++;
	msg_info("%s: %s key of %d bits loaded", where, EVP_PKEY_get0_type_name(key),
		 EVP_PKEY_get_bits(key));
}

/* keys_parse - the private keys in one PEM file; how many were kept. */
static size_t keys_parse(struct tlskey_keys *k, const struct buf *pem, const char *where)
{
	BIO *bio = BIO_new_mem_buf(pem->data, (int)pem->len);
	STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
	size_t before = k->n;

	for (int i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (xi->x_pkey == NULL || xi->x_pkey->dec_pkey == NULL)
			continue;
		/* a key and the certificate next to it (a chain file, or a
		 * certificate file holding its key) must be one pair */
		if (xi->x509 != NULL && X509_check_private_key(xi->x509, xi->x_pkey->dec_pkey) != 1) {
			msg_error("%s: the private key does not match the certificate next to it", where);
			k->broken++;
			continue;
		}
		keys_add(k, xi->x_pkey->dec_pkey, where);
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	return k->n - before;
}

static void keys_load_one(struct tlskey_keys *k, int fd, const char *arg)
{
	struct buf pem = BUF_INIT, where = BUF_INIT;
	const char *nl = strchr(arg, '\n');

	if (nl == NULL)
		msg_fatal("bad key file argument from the broker: \"%.60s\"", arg);
	(void)buf_printf(&where, "%.*s %s", (int)(nl - arg), arg, nl + 1);
	buf_init(&pem, TLSKEY_FILE_MAX);
	if (keys_read(fd, &pem) < 0) {
		msg_error("%s: cannot read it (or more than %zu bytes): %m", buf_str(&where),
			  TLSKEY_FILE_MAX);
		k->broken++;
	} else if (keys_parse(k, &pem, buf_str(&where)) == 0) {
		msg_error("%s: no usable private key in it", buf_str(&where));
		k->broken++;
	}
	if (pem.data != NULL)
		OPENSSL_cleanse(pem.data, pem.cap);
	buf_free(&pem);
	buf_free(&where);
	close(fd);
}

void tlskey_keys_load(struct stage *st, struct tlskey_keys *k)
{
	memset(k, 0, sizeof(*k));
	if (st->nargs != st->nextra)
		msg_fatal("the broker handed %d key fds for %d key files", st->nextra, st->nargs);
	for (int i = 0; i < st->nargs; i++)
		keys_load_one(k, STAGE_FD_EXTRA + i, st->args[i]);
	ERR_clear_error();
}

const struct tlskey_key *tlskey_keys_find(const struct tlskey_keys *k, const unsigned char *id,
					  size_t id_len)
{
	if (id_len != TLSKEY_ID_LEN)
		return NULL;
	for (size_t i = 0; i < k->n; i++)
		if (memcmp(k->v[i].id, id, TLSKEY_ID_LEN) == 0)
			return &k->v[i];
	return NULL;
}
