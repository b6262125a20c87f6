/*
 * smtpd_rcptmaps.c - addresses refused at RCPT because the tables of their
 * address class do not list them (Postfix's check_rcpt_maps):
 * smtpd_reject_unlisted_recipient and smtpd_reject_unlisted_sender after
 * the restriction lists, and the reject_unlisted_recipient (old name
 * check_recipient_maps) and reject_unlisted_sender restrictions where a
 * list names them (the same checks; the parameters are their implicit
 * form, which passes again, from the cache, what the restriction passed).
 *
 * In Postfix's order: an address virtual_alias_maps knows is accepted
 * (cleanup rewrites it); one in relocated_maps is refused with 5.1.6 "User
 * has moved to ..."; then by class: a local address (mydestination, no
 * domain, a literal of this host) is refused because moat has no local
 * delivery (a recipient only: that refusal does not depend on
 * smtpd_reject_unlisted_recipient, and a sender of ours is not checked);
 * a domain of virtual_alias_domains has no other users
 * (unknown_virtual_alias_reject_code, "User unknown in virtual alias
 * table"); a domain of relay_domains has the users relay_recipient_maps
 * lists (unknown_relay_recipient_reject_code). Sender replies say "Sender
 * address rejected" with 5.1.0, as Postfix's smtpd_dsn_fix makes them.
 * virtual_alias_domains is a string list: a name matches itself only, a
 * table is asked for the domain alone; "!name" excludes.
 *
 * Called by the RCPT handler after smtpd_check_rcpt passed, and by the
 * restriction engine (smtpd_check.c) for reject_unlisted_* and for
 * the virtual alias domains reject_unauth_destination accepts. Answers are
 * cached for the transaction (smtpd_rcptmaps_clear at its end).
 *
 * SECURITY: the address is the client's, already parsed strictly; the
 * lookup stage may be compromised or gone: no answer is a 451 4.3.0
 * (Postfix's "Temporary lookup failure"), never an accepted address. A
 * relocated_maps answer goes into a reply: control characters are
 * replaced and its length is capped. smtpd opens no table.
 */
#include <string.h>
#include <strings.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/lookupproto.h"
#include "skeleton/stage_lookup.h"

#define RCPTMAPS_MOVED_MAX	300	/* bytes of a relocated_maps answer put in a reply */

enum { RM_KNOWN, RM_REJECT, RM_TEMP, RM_LOCAL };

/* One address being checked, and what is said if it is refused. */
struct rcptmaps_addr {
	const char *addr;
	const char *domain;	/* "" if none */
	int local;		/* mydestination, no domain, a literal of this host; -1: a table failed */
	int sender;		/* the sender: "Sender address", 5.1.0 */
	int code;		/* RM_REJECT: the reply code */
	const char *dsn;	/* RM_REJECT: "5.1.1" */
	struct buf why;		/* RM_REJECT: "User unknown in ..." */
};

static struct lookup_client rcptmaps_client;
static int rcptmaps_ready;

/* rcptmaps_tables - a table parameter as one query's table list; NULL if unset. */
static const char *rcptmaps_tables(const struct smtpd_session *s, const char *param,
				   struct buf *out)
{
	char *const *items = conf_list(s->st->conf, param);

	buf_reset(out);
	for (size_t i = 0; items && items[i]; i++) {
		if (out->len && buf_putc(out, LOOKUP_TABLE_SEP) < 0)
			return NULL;
		if (buf_append_str(out, items[i]) < 0)
			return NULL;
	}
	return out->len ? buf_str(out) : NULL;
}

/* rcptmaps_ask - LOOKUP_FOUND (value in *value if given), LOOKUP_NOTFOUND, or a failure. */
static int rcptmaps_ask(const struct smtpd_session *s, const char *tables, const char *key,
			uint32_t order, uint32_t flags, struct buf *value)
{
	struct lookup_key k = {
		.tables = tables, .key = key, .order = order, .flags = flags,
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
	if (r == LOOKUP_FOUND && value)
		buf_set(value, a.value.data, a.value.len);
	lookup_answer_free(&a);
	return r;
}

/* rcptmaps_param - 1 found, 0 not found (or no table), -1 failed: param's tables on addr. */
static int rcptmaps_param(const struct smtpd_session *s, const char *param, const char *addr,
			  uint32_t order, uint32_t flags, struct buf *value)
{
	struct buf tables = BUF_INIT;
	const char *t = rcptmaps_tables(s, param, &tables);
	int r = t ? rcptmaps_ask(s, t, addr, order, flags, value) : LOOKUP_NOTFOUND;

	buf_free(&tables);
	return r == LOOKUP_FOUND ? 1 : r == LOOKUP_NOTFOUND ? 0 : -1;
}

int smtpd_rcptmaps_virtual_domain(const struct smtpd_session *s, const char *domain)
{
	char *const *items = conf_list(s->st->conf, "virtual_alias_domains");
	struct buf lower = BUF_INIT;
	int r = 0;

	for (const char *p = domain; *p; p++)
		buf_putc(&lower, *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p);
	for (size_t i = 0; items && items[i] && lower.len; i++) {
		const char *e = items[i] + (items[i][0] == '!');
		int hit = 0;

		if (strchr(e, ':') == NULL)
			hit = strcasecmp(e, buf_str(&lower)) == 0;
		else if ((hit = rcptmaps_ask(s, e, buf_str(&lower), LOOKUP_ORDER_KEY, 0, NULL))
			 != LOOKUP_NOTFOUND)
			hit = hit == LOOKUP_FOUND ? 1 : -1;
		else
			hit = 0;
		if (hit != 0) {
			r = hit < 0 ? -1 : e == items[i];	/* the first match decides; "!" excludes */
			break;
		}
	}
	buf_free(&lower);
	return r;
}

/* rcptmaps_keys - LOOKUP_F_LOCAL when "user" keys count: a local domain, or $myorigin (as cleanup). */
static uint32_t rcptmaps_keys(const struct smtpd_session *s, const struct rcptmaps_addr *a)
{
	return a->local || strcasecmp(a->domain, conf_str(s->st->conf, "myorigin")) == 0
	       ? LOOKUP_F_LOCAL : 0;
}

/* rcptmaps_refuse - RM_REJECT with the reply's code, DSN and text (NULL: a->why as it is). */
static int rcptmaps_refuse(struct rcptmaps_addr *a, int code, const char *dsn, const char *why)
{
	a->code = code;
	a->dsn = a->sender ? "5.1.0" : dsn;
	if (why)
		buf_set_str(&a->why, why);
	return RM_REJECT;
}

/* rcptmaps_moved - relocated_maps: 1 and the reply's text, 0, or -1. */
static int rcptmaps_moved(const struct smtpd_session *s, struct rcptmaps_addr *a)
{
	struct buf value = BUF_INIT;
	int r = rcptmaps_param(s, "relocated_maps", a->addr, LOOKUP_ORDER_REWRITE,
			       rcptmaps_keys(s, a), &value);

	if (r == 1) {
		buf_set_str(&a->why, "User has moved to ");
		for (size_t i = 0; i < value.len && i < RCPTMAPS_MOVED_MAX; i++)
			buf_putc(&a->why, (unsigned char)value.data[i] < 32 || value.data[i] == 127
				 ? '?' : value.data[i]);
	}
	buf_free(&value);
	return r;
}

/* rcptmaps_classify - RM_KNOWN, RM_REJECT (a's code, dsn, why), RM_TEMP or RM_LOCAL. */
static int rcptmaps_classify(const struct smtpd_session *s, struct rcptmaps_addr *a)
{
	const struct conf *c = s->st->conf;
	int r, virt = 0;

	if ((r = rcptmaps_param(s, "virtual_alias_maps", a->addr, LOOKUP_ORDER_REWRITE,
				rcptmaps_keys(s, a), NULL)) != 0)
		return r > 0 ? RM_KNOWN : RM_TEMP;
	if (!a->local && a->domain[0] != '['
	    && (virt = smtpd_rcptmaps_virtual_domain(s, a->domain)) < 0)
		return RM_TEMP;
	if ((r = rcptmaps_moved(s, a)) != 0)
		return r < 0 ? RM_TEMP : rcptmaps_refuse(a, virt ? (int)conf_int(c,
				"unknown_virtual_alias_reject_code") : 550, "5.1.6", NULL);
	if (a->local)
		return RM_LOCAL;
	if (virt)
		return rcptmaps_refuse(a, (int)conf_int(c, "unknown_virtual_alias_reject_code"),
				       "5.1.1", "User unknown in virtual alias table");
	if (a->domain[0] == '[')
		return RM_KNOWN;
	if ((r = smtpd_domain_listed(s, &s->cf->pol.relay_domains, a->domain)) <= 0)
		return r < 0 ? RM_TEMP : RM_KNOWN;
	if ((r = rcptmaps_param(s, "relay_recipient_maps", a->addr, LOOKUP_ORDER_REWRITE, 0,
				NULL)) < 0)
		return RM_TEMP;
	if (r == 0 && conf_list(c, "relay_recipient_maps") && *conf_list(c, "relay_recipient_maps"))
		return rcptmaps_refuse(a, (int)conf_int(c, "unknown_relay_recipient_reject_code"),
				       "5.1.1", "User unknown in relay recipient table");
	return RM_KNOWN;
}

/* rcptmaps_reply - "code dsn <addr>: Recipient address rejected: why" (the DSN class follows the code). */
static void rcptmaps_reply(const struct rcptmaps_addr *a, struct buf *reply)
{
	buf_reset(reply);
	buf_printf(reply, "%d %c%s <%s>: %s address rejected: %s", a->code, '0' + a->code / 100,
		   a->dsn + 1, a->addr, a->sender ? "Sender" : "Recipient", buf_str(&a->why));
}

/* rcptmaps_run - classify and, if refused, the reply; -1 if refused. */
static int rcptmaps_run(const struct smtpd_session *s, struct rcptmaps_addr *a, int unlisted,
			struct buf *reply)
{
	int r = a->local < 0 ? RM_TEMP : unlisted ? rcptmaps_classify(s, a)
		: a->local ? RM_LOCAL : RM_KNOWN;

	if (r == RM_LOCAL && !unlisted) {
		/* only the local refusal is left: an alias still makes the address ours */
		int aliased = rcptmaps_param(s, "virtual_alias_maps", a->addr, LOOKUP_ORDER_REWRITE,
					     LOOKUP_F_LOCAL, NULL);

		r = aliased < 0 ? RM_TEMP : aliased > 0 ? RM_KNOWN : RM_LOCAL;
	}
	if (r == RM_LOCAL)
		r = a->sender ? RM_KNOWN : rcptmaps_refuse(a, 550, "5.1.1",
							  "local delivery is not supported by moat");
	if (r == RM_TEMP)
		rcptmaps_refuse(a, 451, "4.3.0", "Temporary lookup failure");
	if (r == RM_KNOWN)
		return 0;
	if (r == RM_TEMP)
		a->dsn = "4.3.0";
	rcptmaps_reply(a, reply);
	return -1;
}

/* rcptmaps_sender - the sender's address and class. */
static void rcptmaps_sender(const struct smtpd_session *s, struct rcptmaps_addr *a)
{
	const char *at = strrchr(buf_str(&s->sender), '@');

	memset(a, 0, sizeof(*a));
	a->addr = buf_str(&s->sender);
	a->domain = at ? at + 1 : "";
	a->local = at == NULL ? 1 : at[1] == '[' ? 0 : smtpd_domain_listed(s, &s->cf->pol.mydest, at + 1);
	a->sender = 1;
}

/* rcptmaps_recipient - a recipient's address and class. */
static void rcptmaps_recipient(const struct smtpd_session *s, const struct addr_path *rcpt,
			       struct rcptmaps_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->addr = buf_str(&rcpt->addr);
	a->domain = addr_domain(rcpt);
	a->local = smtpd_check_is_local(s, rcpt);
}

int smtpd_rcptmaps_check(struct smtpd_session *s, const struct addr_path *rcpt, struct buf *reply)
{
	struct rcptmaps_addr a;
	int r;

	rcptmaps_recipient(s, rcpt, &a);
	r = rcptmaps_run(s, &a, conf_bool(s->st->conf, "smtpd_reject_unlisted_recipient"), reply);

	buf_free(&a.why);
	if (r == 0 && s->sender.len && conf_bool(s->st->conf, "smtpd_reject_unlisted_sender")) {
		rcptmaps_sender(s, &a);
		r = rcptmaps_run(s, &a, 1, reply);
		buf_free(&a.why);
	}
	return r;
}

int smtpd_rcptmaps_unlisted(struct smtpd_check *ck, int sender)
{
	struct rcptmaps_addr a;
	struct buf reply = BUF_INIT;
	int r = CHECK_DUNNO;

	if (sender ? ck->s->sender.len == 0 : ck->rcpt == NULL)
		return CHECK_DUNNO;	/* not known yet (or the null sender): nothing to check */
	if (sender)
		rcptmaps_sender(ck->s, &a);
	else
		rcptmaps_recipient(ck->s, ck->rcpt, &a);
	if (rcptmaps_run(ck->s, &a, 1, &reply) < 0)
		r = smtpd_check_reject(ck, a.code, a.dsn, "<%s>: %s address rejected: %s", a.addr,
				       sender ? "Sender" : "Recipient", buf_str(&a.why));
	buf_free(&a.why);
	buf_free(&reply);
	return r;
}

void smtpd_rcptmaps_clear(void)
{
	if (rcptmaps_ready)
		lookup_client_clear(&rcptmaps_client);
}
