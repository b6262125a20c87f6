/*
 * smtpd_check_access.c - check_client_access, check_reverse_client_hostname_access,
 * check_helo_access, check_sender_access and check_recipient_access: ask
 * the lookup stage and apply what the table answers as an access action
 * (smtpd_check_action.c). Their _a_, _mx_ and _ns_ forms go on in
 * smtpd_check_server.c with the keys DNS gives.
 *
 * Keys and orders as Postfix's access(5): the client's verified name (with
 * its parent domains when parent_domain_matches_subdomains names
 * smtpd_access_maps, else .domain entries) then its address (192.0.2.1,
 * 192.0.2, ...); the HELO name as a domain; the sender and recipient in the
 * address order (user+ext@domain ... user@), the null sender under
 * smtpd_null_access_lookup_key. Answers are cached for the transaction
 * (smtpd_check_access_clear at its end). A reply names what the table
 * was asked about, whichever list the restriction sits in ("<sender>:
 * Sender address rejected" from smtpd_recipient_restrictions), as Postfix.
 *
 * SECURITY: smtpd opens no table. A lookup that fails (the lookup stage
 * gone, a table error, a pcre limit) is a 451 4.3.5 and a warning, never a
 * restriction skipped: a policy is never weaker than written. The
 * unverified PTR name is the client's own choice: an OK for it is refused
 * (451 4.3.5), as Postfix refuses it, so it can never let a stranger in.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "ipc/lookupproto.h"
#include "lib/msg.h"
#include "skeleton/stage_lookup.h"

static struct lookup_client access_client;
static int access_ready;

uint32_t smtpd_access_parent(const struct smtpd_session *s)
{
	char *const *v = conf_list(s->st->conf, "parent_domain_matches_subdomains");

	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], "smtpd_access_maps") == 0)
			return LOOKUP_F_PARENT;
	return 0;
}

int smtpd_access_lookup(struct smtpd_check *ck, const struct restrict_item *it, const char *key,
			uint32_t order, uint32_t flags, int *found)
{
	struct smtpd_session *s = ck->s;
	struct lookup_key k = {
		.tables = it->arg, .key = key, .order = order, .flags = flags,
		.delim = conf_str(s->st->conf, "recipient_delimiter"),
	};
	struct lookup_answer a;
	struct buf from = BUF_INIT;
	int r = CHECK_DUNNO, got;

	if (!access_ready) {
		lookup_client_init(&access_client, s->st);
		access_ready = 1;
	}
	lookup_answer_init(&a);
	got = lookup_query(&access_client, &k, &a);
	(void)buf_printf(&from, "%s %s", restrict_name(it->id), it->arg);
	*found = got == LOOKUP_FOUND;
	if (got == LOOKUP_FOUND) {
		r = smtpd_check_action(ck, buf_str(&a.value), buf_str(&from));
	} else if (got != LOOKUP_NOTFOUND) {
		msg_warn("%s: %s: table lookup problem for \"%.100s\"", buf_str(&s->namaddr),
			 buf_str(&from), key);
		*found = 1;
		r = smtpd_check_reject(ck, 451, "4.3.5", "Server configuration error");
	}
	buf_free(&from);
	lookup_answer_free(&a);
	return r;
}

/* access_client_keys - a client name (unless "unknown"), then the address. */
static int access_client_keys(struct smtpd_check *ck, const struct restrict_item *it,
			      const char *name)
{
	int found = 0, r = CHECK_DUNNO;

	if (strcmp(name, "unknown") != 0)
		r = smtpd_access_lookup(ck, it, name, LOOKUP_ORDER_DOMAIN, smtpd_access_parent(ck->s),
					&found);
	if (!found)
		r = smtpd_access_lookup(ck, it, ck->s->addr, LOOKUP_ORDER_NETADDR, 0, &found);
	return r;
}

/* access_self - the subject itself is the key. */
static int access_self(struct smtpd_check *ck, const struct restrict_item *it,
		       enum restrict_subject subj)
{
	struct smtpd_session *s = ck->s;
	int found;

	switch (subj) {
	case RS_CLIENT:
		return access_client_keys(ck, it, s->name);
	case RS_REVERSE:
		return access_client_keys(ck, it, s->reverse_name);
	case RS_HELO:
		return s->helo.len ? smtpd_access_lookup(ck, it, buf_str(&s->helo), LOOKUP_ORDER_DOMAIN,
							 smtpd_access_parent(s), &found) : CHECK_DUNNO;
	case RS_SENDER:
		if (s->sender.len == 0)
			return smtpd_access_lookup(ck, it, conf_str(s->st->conf,
								    "smtpd_null_access_lookup_key"),
						   LOOKUP_ORDER_KEY, 0, &found);
		return smtpd_access_lookup(ck, it, buf_str(&s->sender), LOOKUP_ORDER_ACCESS,
					   smtpd_access_parent(s), &found);
	default:
		return ck->rcpt ? smtpd_access_lookup(ck, it, buf_str(&ck->rcpt->addr),
						      LOOKUP_ORDER_ACCESS, smtpd_access_parent(s),
						      &found) : CHECK_DUNNO;
	}
}

/* access_subject - what a reply from a check of subj names, and its class. */
static void access_subject(struct smtpd_check *ck, enum restrict_subject subj)
{
	const struct smtpd_session *s = ck->s;

	switch (subj) {
	case RS_CLIENT:
		ck->subj_name = buf_str(&s->namaddr);
		ck->subj_cls = "Client host";
		break;
	case RS_REVERSE:
		ck->subj_name = s->reverse_name;
		ck->subj_cls = "Unverified Client host";
		break;
	case RS_HELO:
		ck->subj_name = buf_str(&s->helo);
		ck->subj_cls = "Helo command";
		break;
	case RS_SENDER:
		ck->subj_name = buf_str(&s->sender);
		ck->subj_cls = "Sender address";
		break;
	default:
		ck->subj_name = ck->rcpt ? buf_str(&ck->rcpt->addr) : "";
		ck->subj_cls = "Recipient address";
		break;
	}
}

/* access_forbid_ok - Postfix's rule for keys the client chooses through
 * its own DNS: an OK there would let anyone in, so it is a configuration
 * error (unless only warned about). */
static int access_forbid_ok(struct smtpd_check *ck, const struct restrict_item *it, int r)
{
	if (r != CHECK_OK || ck->warn)
		return r;
	msg_warn("restriction %s returns OK for %s", restrict_name(it->id), ck->subj_name);
	msg_warn("this is not allowed for security reasons");
	msg_warn("use DUNNO instead of OK if you want to make an exception");
	return smtpd_check_reject(ck, 451, "4.3.5", "Server configuration error");
}

int smtpd_check_access(struct smtpd_check *ck, const struct restrict_item *it)
{
	const char *name = ck->subj_name, *cls = ck->subj_cls;
	enum restrict_subject subj;
	enum restrict_server srv;
	int r;

	if (!restrict_access(it->id, &subj, &srv))
		return CHECK_DUNNO;
	access_subject(ck, subj);
	if (srv == RS_SELF)
		r = access_self(ck, it, subj);
	else
		r = smtpd_check_server(ck, it, subj, srv);
	if (srv != RS_SELF || subj == RS_REVERSE)
		r = access_forbid_ok(ck, it, r);
	ck->subj_name = name;
	ck->subj_cls = cls;
	return r;
}

void smtpd_check_access_clear(void)
{
	if (access_ready)
		lookup_client_clear(&access_client);
}
