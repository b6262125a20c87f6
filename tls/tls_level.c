/*
 * tls_level.c - TLS security level names (postconf(5)).
 */
#include <strings.h>

#include "tls/tls_level.h"

static const char *const tls_levels[] = {
	[TLS_LEV_NONE] = "none", [TLS_LEV_MAY] = "may", [TLS_LEV_ENCRYPT] = "encrypt",
	[TLS_LEV_FINGERPRINT] = "fingerprint", [TLS_LEV_VERIFY] = "verify",
	[TLS_LEV_SECURE] = "secure", [TLS_LEV_DANE] = "dane", [TLS_LEV_DANE_ONLY] = "dane-only",
};

int tls_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(tls_levels) / sizeof(tls_levels[0])); i++)
		if (strcasecmp(name, tls_levels[i]) == 0)
			return i;
	return -1;
}

const char *tls_level_name(enum tls_level lev)
{
	return tls_levels[lev];
}

int tls_level_client(const char *level, int use_tls, int enforce_tls, int enforce_peername)
{
	if (level && *level)
		return tls_level_parse(level);
	if (enforce_tls)
		return enforce_peername ? TLS_LEV_VERIFY : TLS_LEV_ENCRYPT;
	return use_tls ? TLS_LEV_MAY : TLS_LEV_NONE;
}
