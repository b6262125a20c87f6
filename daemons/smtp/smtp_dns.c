/*
 * smtp_dns.c - the smtp client's DNS lookups, through the dns stage.
 *
 * The smtp stage sends no DNS packet itself (it has no resolver file in its
 * chroot, and only the dns stage parses DNS wire data). On first use it asks
 * the broker for a channel to the "dns" service and keeps it. A lookup sends
 * MSG_DNS_QUERY and reads MSG_DNS_RR ... MSG_DNS_END with the same id;
 * answers to an older id (a lookup that timed out here) are skipped.
 *
 * SECURITY: the dns stage is a peer: what it sends is checked by the IPC
 * schema; values are used only as host names or printable addresses that
 * are parsed again (inet_pton) before use.
 */
#include <poll.h>
#include <string.h>

#include "daemons/smtp/smtp.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"

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

int smtp_dns_lookup(struct smtp_state *s, const char *name, uint32_t type,
		    struct smtp_dns_rr *rr, size_t max, size_t *nrr, struct buf *reason)
{
	struct ipc_dns_query q = { 0 };
	struct ipc_msg m;
	int status = DNS_TEMPFAIL;

	*nrr = 0;
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
		if (m.type == MSG_DNS_RR && m.u.dns_rr.id == q.id && m.u.dns_rr.type == type
		    && *nrr < max) {
			rr[*nrr].pref = (uint16_t)m.u.dns_rr.pref;
			memcpy(rr[*nrr].value, m.u.dns_rr.value, m.u.dns_rr.value_len + 1);
			(*nrr)++;
		} else if (m.type == MSG_DNS_END && m.u.dns_end.id == q.id) {
			status = (int)m.u.dns_end.status;
			buf_set_str(reason, m.u.dns_end.reason);
			break;
		}
		ipc_msg_reset(&m);
	}
	ipc_msg_free(&m);
	return status;
}
