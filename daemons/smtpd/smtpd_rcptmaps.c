/*
 * smtpd_rcptmaps.c - recipients refused at RCPT because a table does not
 * list them: relay_recipient_maps for the domains of relay_domains, with
 * smtpd_reject_unlisted_recipient (Postfix's implicit
 * reject_unlisted_recipient, applied after the restriction lists whatever
 * they permitted) and unknown_relay_recipient_reject_code.
 *
 * Called by the RCPT handler after smtpd_check_rcpt passed; apart from the
 * restriction engine (smtpd_check.c) because it needs the lookup stage.
 * Keys are Postfix's for these maps: user+ext@domain, user@domain, @domain.
 * Answers are cached for the transaction (smtpd_rcptmaps_clear at its end).
 *
 * SECURITY: the address is the client's, already parsed strictly; the
 * lookup stage may be compromised or gone: no answer is a 451 4.3.0
 * (Postfix's "Temporary lookup failure"), never an accepted recipient.
 * smtpd opens no table.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/lookupproto.h"
#include "skeleton/stage_lookup.h"

static struct lookup_client rcptmaps_client;
static int rcptmaps_ready;

/* rcptmaps_tables - relay_recipient_maps as one query's table list; NULL if unset. */
static const char *rcptmaps_tables(struct smtpd_session *s, struct buf *out)
{
	char *const *items = conf_list(s->st->conf, "relay_recipient_maps");

	for (size_t i = 0; items && items[i]; i++) {
		if (out->len && buf_putc(out, LOOKUP_TABLE_SEP) < 0)
			return NULL;
		if (buf_append_str(out, items[i]) < 0)
			return NULL;
	}
	return out->len ? buf_str(out) : NULL;
}

/* rcptmaps_ask - LOOKUP_FOUND, LOOKUP_NOTFOUND, or another status (a failure). */
static int rcptmaps_ask(struct smtpd_session *s, const char *tables, const char *addr)
{
	struct lookup_key k = {
		.tables = tables, .key = addr, .order = LOOKUP_ORDER_REWRITE,
		.delim = conf_str(s->st->conf, "recipient_delimiter"),
	};
	struct lookup_answer a;
	int r;

	if (!rcptmaps_ready) {
		lookup_client_init(&rcptmaps_client, s->st);
		rcptmaps_ready = 1;
	}
	lookup_answer_init(&a);
	r = lookup_query(&rcptmaps_client, &k, &a);
	lookup_answer_free(&a);
	return r;
}

int smtpd_rcptmaps_check(struct smtpd_session *s, const struct addr_path *rcpt, struct buf *reply)
{
	struct buf tables = BUF_INIT;
	const char *t, *addr = buf_str(&rcpt->addr);
	int r, code, listed = 0;

	if (!conf_bool(s->st->conf, "smtpd_reject_unlisted_recipient")
	    || (rcpt->flags & (ADDR_F_NODOMAIN | ADDR_F_LITERAL)) || smtpd_check_is_local(s, rcpt)
	    || (listed = smtpd_domain_listed(s, &s->cf->pol.relay_domains, addr_domain(rcpt))) == 0
	    || (t = rcptmaps_tables(s, &tables)) == NULL) {
		buf_free(&tables);
		return 0;
	}
	r = listed < 0 ? LOOKUP_FAIL : rcptmaps_ask(s, t, addr);
	buf_free(&tables);
	if (r == LOOKUP_FOUND)
		return 0;
	buf_reset(reply);
	if (r != LOOKUP_NOTFOUND) {
		buf_printf(reply, "451 4.3.0 <%s>: Recipient address rejected: "
			   "Temporary lookup failure", addr);
		return -1;
	}
	code = (int)conf_int(s->st->conf, "unknown_relay_recipient_reject_code");
	buf_printf(reply, "%d %c.1.1 <%s>: Recipient address rejected: "
		   "User unknown in relay recipient table", code, code >= 500 ? '5' : '4', addr);
	return -1;
}

void smtpd_rcptmaps_clear(void)
{
	if (rcptmaps_ready)
		lookup_client_clear(&rcptmaps_client);
}
