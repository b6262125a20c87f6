/*
 * addr.h - RFC 5321 envelope paths: strict syntax and address-trick detection.
 *
 * addr_parse_path reads one Reverse-path or Forward-path ("<...>") at the
 * start of a MAIL FROM:/RCPT TO: argument and says where the ESMTP
 * parameters start. It enforces the RFC 5321 size limits (path 256 octets
 * with its brackets, local part 64, domain 255, label 63), the grammar of
 * Dot-string, Quoted-string, Domain and address-literal, and flags every
 * form that relay control must not trust (percent hack, bang path, quoted
 * '@', source route, address literal). SMTPUTF8 addresses (octets >= 0x80,
 * valid UTF-8) are accepted and flagged; the caller decides if they are
 * allowed.
 */
#ifndef MOAT_MAIL_ADDR_H
#define MOAT_MAIL_ADDR_H

#include <stddef.h>

#include "lib/buf.h"

#define ADDR_PATH_MAX	256	/* RFC 5321 4.5.3.1.3, with < > */
#define ADDR_LOCAL_MAX	64	/* RFC 5321 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define ADDR_LABEL_MAX	63

/* addr_parse_path flags (input) */
#define ADDR_P_STRICT	0x01	/* angle brackets required */
#define ADDR_P_NULL_OK	0x02	/* "<>" allowed (MAIL FROM) */

/* struct addr_path.flags (output) */
#define ADDR_F_NULL	0x001	/* the null path <> */
#define ADDR_F_NODOMAIN	0x002	/* no @domain at all: <postmaster> */
#define ADDR_F_QUOTED	0x004	/* local part is a Quoted-string */
#define ADDR_F_PERCENT	0x008	/* '%' in the local part: user%host@relay */
#define ADDR_F_BANG	0x010	/* '!' in the local part: host!user@relay */
#define ADDR_F_QUOTED_AT 0x020	/* '@' inside a quoted local part */
#define ADDR_F_ROUTE	0x040	/* a source route @a,@b:  (stripped from addr) */
#define ADDR_F_LITERAL	0x080	/* domain is an address literal [..] */
#define ADDR_F_UTF8	0x100	/* octets >= 0x80 (needs SMTPUTF8) */

/* Any of these: the address may route somewhere other than its domain. */
#define ADDR_F_TRICKS	(ADDR_F_PERCENT | ADDR_F_BANG | ADDR_F_QUOTED_AT | ADDR_F_ROUTE)

/* Errors: which enhanced status detail fits (RFC 3463 5.1.x / 5.5.x). */
enum addr_err {
	ADDR_OK = 0,
	ADDR_ERR_SYNTAX,	/* bad syntax */
	ADDR_ERR_TOOLONG,	/* path, local part, domain or label too long */
	ADDR_ERR_NOBRACKET,	/* strict mode and no < > */
	ADDR_ERR_NULL,		/* <> where it is not allowed */
};

struct addr_path {
	struct buf addr;	/* mailbox without < >, without source route; "" for <> */
	size_t at;		/* offset of the '@' before the domain, or addr.len */
	unsigned flags;
};

void addr_path_init(struct addr_path *p);
void addr_path_free(struct addr_path *p);

/*
 * addr_parse_path - parse the path at s[0..len); *used is set to the
 * offset just past it (the parameters follow). Returns ADDR_OK or an
 * enum addr_err; *why gets a short text for the reply.
 */
int addr_parse_path(const char *s, size_t len, unsigned pflags, struct addr_path *p,
		    size_t *used, const char **why);

/* addr_domain - the domain part ("" if none); points into p->addr. */
const char *addr_domain(const struct addr_path *p);

/* addr_domain_valid - 1 if s[0..len) is an RFC 5321 Domain (UTF-8 labels allowed). */
int addr_domain_valid(const char *s, size_t len);

/* addr_domain_fqdn - 1 if a valid domain with at least one dot (or a literal). */
int addr_domain_fqdn(const char *s);

/* addr_literal_ip - parse "[1.2.3.4]" / "[IPv6:...]" into family + 16 bytes;
 * 0 on success, -1 otherwise (General-address-literal included). */
int addr_literal_ip(const char *s, size_t len, int *family, unsigned char out[16]);

/* addr_utf8_valid - 1 if s[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int addr_utf8_valid(const unsigned char *s, size_t len);

#endif
