/*
 * canon.h - cleanup's address rewriting from main.cf: canonical maps and
 * their classes, masquerading, automatic BCC (canonical(5), postconf(5)).
 * Loaded by cleanup before its sandbox and by moatd's start-up check, so a
 * value cleanup cannot honour stops moatd with file and line.
 *
 * Refused: a masquerade_domains item that is not a domain name (after any
 * '!'), a masquerade_exceptions item that names a table or a file (only
 * plain user names are matched), an always_bcc that is not user@domain,
 * and, when some canonical map is set, a mydestination item that names a
 * table (the "user" key needs to know the local domains).
 */
#ifndef MOAT_STAGECF_CANON_H
#define MOAT_STAGECF_CANON_H

#include "conf/conf.h"
#include "lib/buf.h"
#include "mail/domlist.h"

/* Address classes of canonical_classes, masquerade_classes. */
#define CANON_ENV_FROM	0x01	/* envelope_sender */
#define CANON_ENV_RCPT	0x02	/* envelope_recipient */
#define CANON_HDR_FROM	0x04	/* header_sender */
#define CANON_HDR_RCPT	0x08	/* header_recipient */

/* The three canonical map parameters, in the order Postfix applies them. */
enum canon_which { CANON_SENDER, CANON_RECIPIENT, CANON_COMMON, CANON_NMAPS };

struct canon_params {
	char *maps[CANON_NMAPS];	/* specs joined by LOOKUP_TABLE_SEP, NULL if unset */
	unsigned classes[CANON_NMAPS];	/* the *_canonical_classes, CANON_* bits */
	int propagate;			/* propagate_unmatched_extensions names canonical */
	char **masq_domains;		/* lower case, '!' kept; NULL-terminated, NULL if none */
	char **masq_exceptions;		/* lower case; NULL-terminated, NULL if none */
	unsigned masq_classes;
	struct domlist mydest;		/* for the "user" key of canonical(5) */
	char *myorigin;
	char *delim;			/* recipient_delimiter */
	char *always_bcc;		/* NULL if unset */
	char *sender_bcc, *recipient_bcc;	/* joined specs, NULL if unset */
};

/* canon_load - from c; -1 and "where: parameter: reason" in err. */
int canon_load(struct canon_params *p, const struct conf *c, struct buf *err);
void canon_free(struct canon_params *p);

/* canon_any_table - 1 if some parameter here needs the lookup stage. */
int canon_any_table(const struct canon_params *p);

/* canon_tables_join - a parameter's items as one query's table list (NULL if none). */
char *canon_tables_join(char *const *items);

#endif
