/*
 * cleanup_canon_hdr.c - canonical maps and masquerading on the addresses
 * of message headers (see cleanup_canon.h).
 *
 * Which headers, as Postfix's header_opts table: sender headers (class
 * header_sender) From, Sender, Reply-To, Errors-To, Return-Receipt-To,
 * Disposition-Notification-To, Mail-Followup-To, Return-Path,
 * Resent-From, Resent-Sender; recipient headers (header_recipient) To,
 * Cc, Bcc, Apparently-To, Resent-To, Resent-Cc, Resent-Bcc,
 * Resent-Reply-To. Only primary headers, only for local clients, after
 * header_checks had their say. Each address is found in place
 * (mail/addrlist.c) and only an address that changed is replaced: display
 * names, comments, groups and folding stay as the sender wrote them
 * (Postfix re-renders the whole header; the addresses come out the same).
 *
 * SECURITY: the header is the client's. Addresses longer than an
 * envelope path are left alone (no table could list them), so no header
 * can make cleanup ask the lookup stage a key it refuses.
 */
#include <string.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "mail/addr.h"
#include "mail/addrlist.h"
#include "mail/header.h"

static const struct { const char *name; unsigned cls; } canon_headers[] = {
	{ "From", CANON_HDR_FROM }, { "Sender", CANON_HDR_FROM },
	{ "Reply-To", CANON_HDR_FROM }, { "Errors-To", CANON_HDR_FROM },
	{ "Return-Receipt-To", CANON_HDR_FROM }, { "Disposition-Notification-To", CANON_HDR_FROM },
	{ "Mail-Followup-To", CANON_HDR_FROM }, { "Return-Path", CANON_HDR_FROM },
	{ "Resent-From", CANON_HDR_FROM }, { "Resent-Sender", CANON_HDR_FROM },
	{ "To", CANON_HDR_RCPT }, { "Cc", CANON_HDR_RCPT }, { "Bcc", CANON_HDR_RCPT },
	{ "Apparently-To", CANON_HDR_RCPT }, { "Resent-To", CANON_HDR_RCPT },
	{ "Resent-Cc", CANON_HDR_RCPT }, { "Resent-Bcc", CANON_HDR_RCPT },
	{ "Resent-Reply-To", CANON_HDR_RCPT },
};

struct hdr_rewrite {
	struct cleanup_msg *cm;
	unsigned cls;
	const char *value;	/* the header after its colon */
	size_t copied;		/* value bytes already in out */
	int changed;
};

/* hdr_class - the class of the raw header's addresses, or 0. */
static unsigned hdr_class(const char *raw, size_t len)
{
	for (size_t i = 0; i < sizeof(canon_headers) / sizeof(canon_headers[0]); i++)
		if (header_is_name(raw, len, canon_headers[i].name))
			return canon_headers[i].cls;
	return 0;
}

/* hdr_class_on - does any map or masquerading act on this class? */
static int hdr_class_on(const struct canon_params *p, unsigned cls)
{
	for (int i = 0; i < CANON_NMAPS; i++)
		if (p->maps[i] && (p->classes[i] & cls))
			return 1;
	return p->masq_domains != NULL && (p->masq_classes & cls);
}

/* hdr_address - one address of the header: replaced in out if it changed. */
static int hdr_address(void *ctx, size_t off, size_t len, const char *key)
{
	struct hdr_rewrite *h = ctx;
	struct cleanup_rw *rw = &h->cm->rw;

	if (strlen(key) > ADDR_PATH_MAX)
		return 0;
	buf_set_str(&rw->addr, key);
	if (cleanup_canon_addr(h->cm, h->cls, &rw->addr) < 0)
		return -1;
	if (strcmp(buf_str(&rw->addr), key) == 0)
		return 0;
	buf_append(&rw->out, h->value + h->copied, off - h->copied);
	buf_append(&rw->out, rw->addr.data, rw->addr.len);
	h->copied = off + len;
	h->changed = 1;
	return 0;
}

int cleanup_canon_header(struct cleanup_msg *cm, const char *raw, size_t len)
{
	const struct canon_params *p = &cm->cfg->canon;
	struct hdr_rewrite h = { .cm = cm };
	size_t colon;

	/* a header message_drop_headers removes (Bcc) costs no lookup */
	if (!cm->rw.hdr_rewrite || cm->status != 0 || (h.cls = hdr_class(raw, len)) == 0
	    || !hdr_class_on(p, h.cls) || header_name_len(raw, len, &colon) == 0
	    || header_in_list(raw, len, cm->cfg->drop_headers))
		return 0;
	h.value = raw + colon + 1;
	buf_reset(&cm->rw.out);
	buf_append(&cm->rw.out, raw, colon + 1);
	if (addrlist_scan(h.value, len - colon - 1, &cm->rw.key, hdr_address, &h) < 0 || !h.changed)
		return 0;
	buf_append(&cm->rw.out, h.value + h.copied, len - colon - 1 - h.copied);
	return 1;
}
