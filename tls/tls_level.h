/*
 * tls_level.h - Postfix's TLS security levels, and the obsolete
 * *_use_tls / *_enforce_tls parameters mapped to them as Postfix does.
 */
#ifndef MOAT_TLS_LEVEL_H
#define MOAT_TLS_LEVEL_H

enum tls_level {
	TLS_LEV_NONE, TLS_LEV_MAY, TLS_LEV_ENCRYPT, TLS_LEV_FINGERPRINT,
	TLS_LEV_VERIFY, TLS_LEV_SECURE, TLS_LEV_DANE, TLS_LEV_DANE_ONLY,
};

/* tls_level_parse - the level of a name (any case); -1 if unknown. */
int tls_level_parse(const char *name);
const char *tls_level_name(enum tls_level lev);

/*
 * tls_level_client - the smtp client's level: smtp_tls_security_level when
 * set, else smtp_enforce_tls (verify with smtp_tls_enforce_peername, else
 * encrypt), else smtp_use_tls (may), else none. -1 for an unknown name.
 */
int tls_level_client(const char *level, int use_tls, int enforce_tls, int enforce_peername);

/* Levels that never send mail in cleartext; levels that check the peer. */
#define TLS_LEV_REQUIRED(l)	((l) >= TLS_LEV_ENCRYPT)
#define TLS_LEV_CHECKS_CERT(l)	((l) >= TLS_LEV_FINGERPRINT)
/* Levels whose checks come from DNSSEC TLSA records (smtp_dane.c). */
#define TLS_LEV_DANE_BASED(l)	((l) >= TLS_LEV_DANE)

#endif
