/*
 * smtp_dns.c - the smtp client's DNS lookups, through the dns stage.
 *
 * The smtp stage sends no DNS packet itself (it has no resolver file in its
 * chroot, and only the dns stage parses DNS wire data). On first use it asks
 * the broker for a channel to the "dns" service and keeps it. A lookup sends
 * MSG_DNS_QUERY and reads MSG_DNS_RR ... MSG_DNS_END with the same id;
 * answers to an older id (a lookup that timed out here) are skipped.
 *
 * A TLSA lookup (smtp_dns_ask with a TLSA list) gets MSG_DNS_TLSA records;
 * every answer ends with the resolver's AD bit, kept as "secure".
 *
 * SECURITY: the dns stage is a peer: what it sends is checked by the IPC
 * schema, then here: a record of a type not asked for, a TLSA field or an
 * MX preference past its wire size, a status or secure flag out of range is a protocol violation,
 * reported to the broker; the channel is dropped and the lookup fails for
 * now (TEMPFAIL), never believed. Values are used only as host names or
 * printable addresses that are parsed again (inet_pton) before use, and
 * TLSA data only through OpenSSL's DANE API, which checks it.
 */
#include <poll.h>
#include <string.h>

#include "daemons/smtp/smtp.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/xmem.h"

#define SMTP_DNS_TIMEOUT_MS	15000

static int smtp_dns_channel(struct smtp_state *s)
{
	pid_t pid = 0;
	int fd;

	if (s->have_dns)
		return 0;
	if ((fd = stage_request_peer(s->st, "dns", &pid)) < 0)
		return -1;
	ipc_chan_init(&s->dns, fd, IPC_CHAN_DNS, IPC_SIDE_A, "dns", pid);
	s->have_dns = 1;
	return 0;
}

static void smtp_dns_drop(struct smtp_state *s)
{
	ipc_chan_close(&s->dns);
	s->have_dns = 0;
}

/* smtp_dns_bad - a dns stage that breaks the protocol: reported, channel dropped. */
static int smtp_dns_bad(struct smtp_state *s, const char *what, struct buf *reason)
{
	stage_report_violation(s->st, &s->dns, what);
	smtp_dns_drop(s);
	buf_set_str(reason, "DNS service sent a malformed answer");
	return DNS_TEMPFAIL;
}

/* smtp_dns_tlsa_take - one MSG_DNS_TLSA; NULL or what is wrong with it. */
static const char *smtp_dns_tlsa_take(const struct ipc_dns_tlsa *t, struct smtp_dns_answer *a)
{
	struct smtp_tlsa *r;

	if (a->tlsa == NULL)
		return "TLSA record for a query of another type";
	if (t->usage > 255 || t->selector > 255 || t->mtype > 255)
		return "TLSA field out of range";
	if (a->ntlsa >= a->max)
		return NULL;	/* more than we use: ignored */
	r = &a->tlsa[a->ntlsa++];
	r->usage = (uint8_t)t->usage;
	r->selector = (uint8_t)t->selector;
	r->mtype = (uint8_t)t->mtype;
	r->len = t->data_len;
	r->data = xmalloc(t->data_len ? t->data_len : 1);
	memcpy(r->data, t->data, t->data_len);
	return NULL;
}

/* smtp_dns_take - one message of the answer to q; 1 at its END, 0 go on,
 * or NULL/what is wrong in *bad. */
static int smtp_dns_take(const struct ipc_msg *m, const struct ipc_dns_query *q,
			 struct smtp_dns_answer *a, const char **bad)
{
	if (m->type == MSG_DNS_RR && m->u.dns_rr.id == q->id) {
		if (m->u.dns_rr.type != q->type || a->rr == NULL)
			*bad = "record of a type not asked for";
		else if (m->u.dns_rr.pref > 65535)
			*bad = "MX preference out of range";
		else if (a->nrr < a->max) {
			a->rr[a->nrr].pref = (uint16_t)m->u.dns_rr.pref;
			memcpy(a->rr[a->nrr].value, m->u.dns_rr.value, m->u.dns_rr.value_len + 1);
			a->nrr++;
		}
	} else if (m->type == MSG_DNS_TLSA && m->u.dns_tlsa.id == q->id) {
		*bad = smtp_dns_tlsa_take(&m->u.dns_tlsa, a);
	} else if (m->type == MSG_DNS_END && m->u.dns_end.id == q->id) {
		if (m->u.dns_end.status > DNS_PERMFAIL || m->u.dns_end.secure > 1)
			*bad = "status or secure flag out of range";
		return 1;
	}
	return 0;
}

int smtp_dns_ask(struct smtp_state *s, const char *name, uint32_t type,
		 struct smtp_dns_answer *a, struct buf *reason)
{
	struct ipc_dns_query q = { 0 };
	struct ipc_msg m;
	int status = DNS_TEMPFAIL;

	a->nrr = a->ntlsa = 0;
	a->secure = 0;
	if (smtp_dns_channel(s) < 0) {
		buf_set_str(reason, "no DNS service available");
		return DNS_TEMPFAIL;
	}
	q.id = ++s->dns_id;
	q.name = name;
	q.type = type;
	if (ipc_chan_send(&s->dns, MSG_DNS_QUERY, &q) < 0) {
		msg_warn("dns channel: %s", buf_str(&s->dns.why));
		smtp_dns_drop(s);
		buf_set_str(reason, "DNS service failed");
		return DNS_TEMPFAIL;
	}
	ipc_msg_init(&m);
	for (;;) {
		struct pollfd p = { s->dns.fd, POLLIN, 0 };
		const char *bad = NULL;
		int r;

		if (poll(&p, 1, SMTP_DNS_TIMEOUT_MS) <= 0) {
			buf_set_str(reason, "DNS lookup timed out");
			break;
		}
		r = ipc_chan_recv(&s->dns, &m);
		if (r != IPC_RECV_MSG) {
			msg_warn("dns channel: %s", r == IPC_RECV_EOF ? "closed" : buf_str(&s->dns.why));
			smtp_dns_drop(s);
			buf_set_str(reason, "DNS service failed");
			break;
		}
		r = smtp_dns_take(&m, &q, a, &bad);
		if (bad) {
			status = smtp_dns_bad(s, bad, reason);
			break;
		}
		if (r == 1) {
			status = (int)m.u.dns_end.status;
			a->secure = (int)m.u.dns_end.secure;
			buf_set_str(reason, m.u.dns_end.reason);
			break;
		}
		ipc_msg_reset(&m);
	}
	ipc_msg_free(&m);
	if (status != DNS_OK)
		a->secure = status == DNS_NODATA || status == DNS_NOTFOUND ? a->secure : 0;
	return status;
}

int smtp_dns_lookup(struct smtp_state *s, const char *name, uint32_t type,
		    struct smtp_dns_rr *rr, size_t max, size_t *nrr, struct buf *reason)
{
	struct smtp_dns_answer a = { .rr = rr, .max = max };
	int st = smtp_dns_ask(s, name, type, &a, reason);

	*nrr = a.nrr;
	s->dns_secure = a.secure;
	return st;
}

void smtp_dns_tlsa_free(struct smtp_tlsa *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xfree(t[i].data);
		t[i].data = NULL;
	}
}
