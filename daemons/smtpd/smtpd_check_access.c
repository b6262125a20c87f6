/*
 * smtpd_check_access.c - check_client_access, check_helo_access,
 * check_sender_access and check_recipient_access: ask the lookup stage and
 * apply what the table answers as an access action (smtpd_check_action.c).
 *
 * Keys and orders as Postfix's access(5): the client's verified name (with
 * its parent domains when parent_domain_matches_subdomains names
 * smtpd_access_maps, else .domain entries) then its address (192.0.2.1,
 * 192.0.2, ...); the HELO name as a domain; the sender and recipient in the
 * address order (user+ext@domain ... user@), the null sender under
 * smtpd_null_access_lookup_key. Answers are cached for the transaction
 * (smtpd_check_access_clear at its end).
 *
 * SECURITY: smtpd opens no table. A lookup that fails (the lookup stage
 * gone, a table error, a pcre limit) is a 451 4.3.5 and a warning, never a
 * restriction skipped: a policy is never weaker than written.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/lookupproto.h"
#include "lib/msg.h"
#include "skeleton/stage_lookup.h"

static struct lookup_client access_client;
static int access_ready;

/* access_parent - LOOKUP_F_PARENT when parent_domain_matches_subdomains names access maps. */
static uint32_t access_parent(struct smtpd_session *s)
{
	char *const *v = conf_list(s->st->conf, "parent_domain_matches_subdomains");

	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], "smtpd_access_maps") == 0)
			return LOOKUP_F_PARENT;
	return 0;
}

/* access_ask - one key in one order: CHECK_* from the answer, or 1 if not found. */
static int access_ask(struct smtpd_check *ck, const struct restrict_item *it, const char *key,
		      uint32_t order, uint32_t flags)
{
	struct smtpd_session *s = ck->s;
	struct lookup_key k = {
		.tables = it->arg, .key = key, .order = order, .flags = flags,
		.delim = conf_str(s->st->conf, "recipient_delimiter"),
	};
	struct lookup_answer a;
	struct buf from = BUF_INIT;
	int r;

	if (!access_ready) {
		lookup_client_init(&access_client, s->st);
		access_ready = 1;
	}
	lookup_answer_init(&a);
	r = lookup_query(&access_client, &k, &a);
	(void)buf_printf(&from, "%s %s", restrict_name(it->id), it->arg);
	if (r == LOOKUP_FOUND) {
		r = smtpd_check_action(ck, buf_str(&a.value), buf_str(&from));
	} else if (r == LOOKUP_NOTFOUND) {
		r = 1;
	} else {
		msg_warn("%s: %s: table lookup problem for \"%.100s\"", buf_str(&s->namaddr),
			 buf_str(&from), key);
		r = smtpd_check_reject(ck, 451, "4.3.5", "Server configuration error");
	}
	buf_free(&from);
	lookup_answer_free(&a);
	return r;
}

int smtpd_check_access(struct smtpd_check *ck, const struct restrict_item *it)
{
	struct smtpd_session *s = ck->s;
	int r = 1;

	switch (it->id) {
	case RESTRICT_CHECK_CLIENT_ACCESS:
		if (strcmp(s->name, "unknown") != 0)
			r = access_ask(ck, it, s->name, LOOKUP_ORDER_DOMAIN, access_parent(s));
		if (r == 1)
			r = access_ask(ck, it, s->addr, LOOKUP_ORDER_NETADDR, 0);
		break;
	case RESTRICT_CHECK_HELO_ACCESS:
		if (s->helo.len)
			r = access_ask(ck, it, buf_str(&s->helo), LOOKUP_ORDER_DOMAIN, access_parent(s));
		break;
	case RESTRICT_CHECK_SENDER_ACCESS:
		if (s->sender.len)
			r = access_ask(ck, it, buf_str(&s->sender), LOOKUP_ORDER_ACCESS, access_parent(s));
		else
			r = access_ask(ck, it, conf_str(s->st->conf, "smtpd_null_access_lookup_key"),
				       LOOKUP_ORDER_KEY, 0);
		break;
	case RESTRICT_CHECK_RCPT_ACCESS:
		if (ck->rcpt)
			r = access_ask(ck, it, buf_str(&ck->rcpt->addr), LOOKUP_ORDER_ACCESS,
				       access_parent(s));
		break;
	default:
		return -1;
	}
	return r == 1 ? CHECK_DUNNO : r;
}

void smtpd_check_access_clear(void)
{
	if (access_ready)
		lookup_client_clear(&access_client);
}
