/*
 * peers.c - hand out stage-to-stage channels.
 *
 * Stages have no way to reach each other except through the broker: a stage
 * asks for a channel to a peer stage by name; the broker checks the edge
 * table (ipc/channels.def), picks a live process of that stage (the one with
 * the fewest channels), makes a socketpair, and sends one end to each side,
 * telling each who is on the other end. The broker never reads what flows on
 * these channels.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/msg.h"

static void peers_deny(struct child *c, const struct ipc_broker_peer_request *r, const char *why)
{
	struct ipc_broker_peer_deny d = {
		.request_id = r->request_id, .peer_stage = r->peer_stage, .reason = why,
	};

	if (ipc_chan_send(&c->ch, MSG_BROKER_PEER_DENY, &d) < 0)
		msg_warn("deny to %s pid %ld: %s", c->svc->stage, (long)c->pid, buf_str(&c->ch.why));
}

/* peers_pick - the least-loaded live process of a stage, or NULL. */
static struct child *peers_pick(struct broker *b, const char *stage)
{
	struct child *best = NULL;

	for (struct child *c = b->children; c; c = c->next) {
		if (c->retiring || c->ch.fd < 0 || strcmp(c->svc->stage, stage) != 0)
			continue;
		if (best == NULL || c->npeers < best->npeers)
			best = c;
	}
	return best;
}

void broker_peer_request(struct broker *b, struct child *c, const struct ipc_broker_peer_request *r)
{
	enum ipc_chan_kind kind;
	struct child *to;
	int sv[2];

	if (ipc_edge_lookup(c->svc->stage, r->peer_stage, &kind) < 0) {
		msg_warn("%s pid %ld asked for a channel to %s: no such edge", c->svc->stage,
			 (long)c->pid, r->peer_stage);
		peers_deny(c, r, "not allowed");
		return;
	}
	if ((to = peers_pick(b, r->peer_stage)) == NULL) {
		peers_deny(c, r, "no such stage running");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		msg_warn("socketpair: %m");
		peers_deny(c, r, "broker out of resources");
		return;
	}
	struct ipc_broker_peer_grant g = {
		.request_id = r->request_id, .peer_stage = r->peer_stage,
		.peer_pid = (uint32_t)to->pid, .fd = sv[0],
	};
	struct ipc_broker_peer_accept a = {
		.peer_stage = c->svc->stage, .peer_pid = (uint32_t)c->pid, .fd = sv[1],
	};

	if (ipc_chan_send(&to->ch, MSG_BROKER_PEER_ACCEPT, &a) < 0)
		peers_deny(c, r, "peer unreachable");
	else if (ipc_chan_send(&c->ch, MSG_BROKER_PEER_GRANT, &g) < 0)
		msg_warn("grant to %s pid %ld: %s", c->svc->stage, (long)c->pid, buf_str(&c->ch.why));
	else
		to->npeers++;
	close(sv[0]);
	close(sv[1]);
}
