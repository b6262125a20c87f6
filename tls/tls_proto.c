/*
 * tls_proto.c - Postfix protocol lists to an OpenSSL version range.
 *
 * Called at start-up with a parameter's items; never with peer data.
 */
#include <string.h>
#include <strings.h>

#include "tls/tls_proto.h"

static const struct {
	const char *name;
	unsigned bit;
	int version;		/* OpenSSL's, 0 for the protocols it cannot speak */
} tls_protos[] = {
	{ "SSLv2", TLS_P_SSLv2, 0 },
	{ "SSLv3", TLS_P_SSLv3, 0 },
	{ "TLSv1", TLS_P_TLSv1, TLS1_VERSION },
	{ "TLSv1.1", TLS_P_TLSv1_1, TLS1_1_VERSION },
	{ "TLSv1.2", TLS_P_TLSv1_2, TLS1_2_VERSION },
	{ "TLSv1.3", TLS_P_TLSv1_3, TLS1_3_VERSION },
};
#define TLS_NPROTOS (sizeof(tls_protos) / sizeof(tls_protos[0]))

static int proto_index(const char *name)
{
	for (size_t i = 0; i < TLS_NPROTOS; i++)
		if (strcasecmp(name, tls_protos[i].name) == 0)
			return (int)i;
	return -1;
}

const char *tls_proto_name(unsigned bit)
{
	for (size_t i = 0; i < TLS_NPROTOS; i++)
		if (tls_protos[i].bit == bit)
			return tls_protos[i].name;
	return "unknown";
}

/* proto_from - the bits of every protocol at index i and above (or below). */
static unsigned proto_from(int i, int up)
{
	unsigned m = 0;

	for (size_t k = 0; k < TLS_NPROTOS; k++)
		if (up ? (int)k >= i : (int)k <= i)
			m |= tls_protos[k].bit;
	return m;
}

int tls_proto_parse(char *const *items, unsigned *mask, struct buf *why)
{
	unsigned incl = 0, excl = 0, range = ~0u;

	for (; items && *items; items++) {
		const char *it = *items;
		int ge = strncmp(it, ">=", 2) == 0, le = strncmp(it, "<=", 2) == 0;
		int neg = *it == '!';
		int i = proto_index(it + (ge || le ? 2 : neg));

		if (i < 0) {
			buf_reset(why);
			(void)buf_printf(why, "unknown TLS protocol \"%s\"", it);
			return -1;
		}
		if (ge || le)
			range &= proto_from(i, ge);
		else if (neg)
			excl |= tls_protos[i].bit;
		else
			incl |= tls_protos[i].bit;
	}
	*mask = (incl ? incl : ~0u) & ~excl & range & TLS_P_USABLE;
	if (*mask == 0) {
		buf_reset(why);
		(void)buf_set_str(why, "no TLS protocol version is left enabled");
		return -1;
	}
	return 0;
}

int tls_proto_apply(SSL_CTX *ctx, unsigned mask)
{
	static const struct {
		unsigned bit;
		uint64_t op;
	} gaps[] = {
		{ TLS_P_TLSv1, SSL_OP_NO_TLSv1 }, { TLS_P_TLSv1_1, SSL_OP_NO_TLSv1_1 },
		{ TLS_P_TLSv1_2, SSL_OP_NO_TLSv1_2 }, { TLS_P_TLSv1_3, SSL_OP_NO_TLSv1_3 },
	};
	int lo = 0, hi = 0;

	for (size_t i = 0; i < TLS_NPROTOS; i++)
		if (mask & tls_protos[i].bit && tls_protos[i].version) {
			if (!lo)
				lo = tls_protos[i].version;
			hi = tls_protos[i].version;
		}
	if (!lo || !SSL_CTX_set_min_proto_version(ctx, lo) || !SSL_CTX_set_max_proto_version(ctx, hi))
		return -1;
	/* "TLSv1 TLSv1.2": OpenSSL has a range only; the hole is an option. */
	for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++)
		if (!(mask & gaps[i].bit))
			(void)SSL_CTX_set_options(ctx, gaps[i].op);
	return 0;
}
