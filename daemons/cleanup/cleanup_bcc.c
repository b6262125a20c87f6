/*
 * cleanup_bcc.c - automatic BCC recipients: always_bcc, sender_bcc_maps,
 * recipient_bcc_maps (see cleanup_canon.h), the archiving that regulated
 * users need.
 *
 * Postfix semantics kept: the maps are asked in canonical(5) order
 * (user+ext@domain, user@domain, user (local domains), @domain) with the
 * envelope address as canonical maps left it; the answer is one address
 * (Postfix supports no list here), rewritten as a recipient (recipient
 * and common canonical maps, masquerading of envelope recipients) and
 * added with NOTIFY=NEVER; a copy that several maps ask for is added once.
 * The null sender is not looked up; mail made by moat itself (bounces,
 * delay and postmaster notices) gets no BCC.
 *
 * Where moat is stricter: a table that fails, and an answer that is no
 * address, fail the message with 451 4.3.0, so that no message is accepted
 * without its archive copy.
 *
 * SECURITY: the table's answer is checked as an envelope address
 * (cleanup_addr_bad) before it reaches the queue file.
 */
#include <string.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/lookupproto.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "skeleton/stage_lookup.h"

/* bcc_seen - 1 if addr was added already; else it is remembered. */
static int bcc_seen(struct cleanup_rw *rw, const char *addr)
{
	for (size_t off = 0; off < rw->bcc_seen.len; off += strlen(rw->bcc_seen.data + off) + 1)
		if (strcmp(rw->bcc_seen.data + off, addr) == 0)
			return 1;
	buf_append(&rw->bcc_seen, addr, strlen(addr) + 1);
	return 0;
}

/* bcc_add - one BCC address, rewritten as a recipient, into the queue file once. */
static void bcc_add(struct cleanup_msg *cm, const char *param, const char *bcc)
{
	struct buf addr = BUF_INIT;
	const char *bad;

	buf_set_str(&addr, bcc);
	if ((bad = cleanup_addr_bad(bcc, cm->flags)) != NULL || strchr(bcc, '@') == NULL) {
		msg_warn("%s: %s: bad BCC address \"%.300s\" (%s) -- message not accepted, try again "
			 "later", cm->qid, param, bcc, bad ? bad : "need user@domain");
		cleanup_fail(cm, 451, "4.3.0 Error: temporary failure of address rewriting");
		cm->check |= CM_CHECK_LOGGED;
	} else if (cleanup_canon_addr(cm, CANON_ENV_RCPT, &addr) == 0 && cm->status == 0
		   && !bcc_seen(&cm->rw, buf_str(&addr))
		   && queue_file_put_rcpt(cm->qf, buf_str(&addr),
					  cm->cfg->original_recipient ? buf_str(&addr) : "", "",
					  QUEUE_NOTIFY_NEVER) < 0) {
		msg_warn("%s: queue file write error: %m", cm->qid);
		cleanup_fail(cm, 451, "4.3.0 Error: queue file write error");
	}
	buf_free(&addr);
}

/* bcc_lookup - the BCC address tables give for addr, then added. */
static void bcc_lookup(struct cleanup_msg *cm, const char *param, const char *tables,
		       const char *addr)
{
	const struct canon_params *p = &cm->cfg->canon;
	struct lookup_key k = {
		.tables = tables, .key = addr, .order = LOOKUP_ORDER_REWRITE, .delim = p->delim,
	};
	struct lookup_answer a;
	int r;

	if (*addr == 0 || cm->status != 0)
		return;
	lookup_answer_init(&a);
	r = cm->cfg->canon_lc ? lookup_query(cm->cfg->canon_lc, &k, &a) : LOOKUP_FAIL;
	if (r == LOOKUP_FOUND) {
		bcc_add(cm, param, buf_str(&a.value));
	} else if (r != LOOKUP_NOTFOUND) {
		msg_warn("%s: %s map lookup problem for %.300s -- message not accepted, try again "
			 "later", cm->qid, param, addr);
		cleanup_fail(cm, 451, "4.3.0 Error: temporary failure of address rewriting");
		cm->check |= CM_CHECK_LOGGED;
	}
	lookup_answer_free(&a);
}

void cleanup_bcc_rcpt(struct cleanup_msg *cm, const char *rcpt)
{
	const struct canon_params *p = &cm->cfg->canon;

	if (p->recipient_bcc && !(cm->flags & CLEANUP_F_BOUNCE))
		bcc_lookup(cm, "recipient_bcc_maps", p->recipient_bcc, rcpt);
}

void cleanup_bcc_envelope_end(struct cleanup_msg *cm)
{
	const struct canon_params *p = &cm->cfg->canon;

	if ((cm->flags & CLEANUP_F_BOUNCE) || cm->nrcpt == 0 || cm->status != 0)
		return;
	if (p->sender_bcc)
		bcc_lookup(cm, "sender_bcc_maps", p->sender_bcc, buf_str(&cm->sender));
	if (p->always_bcc)
		bcc_add(cm, "always_bcc", p->always_bcc);
}
