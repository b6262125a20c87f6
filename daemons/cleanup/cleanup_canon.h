/*
 * cleanup_canon.h - address rewriting in cleanup: canonical maps
 * (canonical(5)), masquerading and automatic BCC recipients, for one
 * message (cleanup_msg.h). The parameters are stagecf/canon.h's.
 *
 * Postfix's order for each address: sender_canonical_maps (or
 * recipient_canonical_maps), then canonical_maps, then masquerade_domains,
 * each only for the classes its *_classes parameter names. Header
 * addresses are rewritten only in mail from local clients (Postfix's
 * local_header_rewrite_clients default, permit_inet_interfaces). A table
 * that fails fails the message with 451 4.3.0: no address ever passes
 * unrewritten because its table could not answer.
 */
#ifndef MOAT_CLEANUP_CANON_H
#define MOAT_CLEANUP_CANON_H

#include <stddef.h>

#include "lib/buf.h"
#include "stagecf/canon.h"

struct cleanup_msg;

/* Per-message state (struct cleanup_msg.rw). */
struct cleanup_rw {
	int hdr_rewrite;	/* header addresses are rewritten (a local client) */
	struct buf addr;	/* one address being rewritten */
	struct buf key;		/* an address as a header writes it */
	struct buf out;		/* a rewritten header */
	struct buf bcc_seen;	/* BCC recipients added, each NUL-terminated */
};

void cleanup_rw_init(struct cleanup_rw *rw);
void cleanup_rw_free(struct cleanup_rw *rw);
void cleanup_rw_reset(struct cleanup_rw *rw);

/* cleanup_canon_addr - rewrite addr in place for class cls (CANON_ENV_FROM, ...);
 * 0, or -1 when a table failed (the message is failed already). */
int cleanup_canon_addr(struct cleanup_msg *cm, unsigned cls, struct buf *addr);

/* cleanup_canon_header - 1 and the rewritten header in cm->rw.out when raw is a
 * sender or recipient header whose addresses changed; 0: keep raw. */
int cleanup_canon_header(struct cleanup_msg *cm, const char *raw, size_t len);

/* cleanup_masq - masquerade_domains on addr; 1 if it changed. */
int cleanup_masq(const struct canon_params *p, struct buf *addr);

/*
 * BCC (cleanup_bcc.c), for mail that enters from outside (never a DSN or
 * notice of moat's own): recipient_bcc_maps for each recipient as it is
 * written, sender_bcc_maps and always_bcc once the envelope ends with at
 * least one recipient. Each BCC address is rewritten as a recipient, goes
 * into the queue file once per message whatever asked for it, with
 * NOTIFY=NEVER (the sender never hears of it), and does not count as one
 * of the message's recipients.
 */
void cleanup_bcc_rcpt(struct cleanup_msg *cm, const char *rcpt);
void cleanup_bcc_envelope_end(struct cleanup_msg *cm);

#endif
