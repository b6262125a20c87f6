/*
 * peers.c - hand out stage-to-stage channels.
 *
 * Stages have no way to reach each other except through the broker: a stage
 * asks for a channel to a peer stage by name; the broker checks the edge
 * table (ipc/channels.def), picks a live process of that stage (the one with
 * the fewest channels), makes a socketpair, and sends one end to each side,
 * telling each who is on the other end. The broker never reads what flows on
 * these channels.
 *
 * A request names a stage ("cleanup") or a master.cf service ("relay", which
 * runs the smtp stage with its own -o settings). screen's request for
 * "smtpd" means the smtpd pool of its own inet service, as the current
 * configuration has it (a screen retiring after a reload still hands its
 * last connections to the new pool of the same name). Some stages serve one client
 * channel per process, so that work that blocks (an fsync, an SMTP session)
 * in one never stalls another client: for those the broker starts another
 * process, up to the service's maxproc, when every process has a channel;
 * past that, cleanup processes take a second client, smtp processes do not.
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

/*
 * Stages that serve one client channel per process (see above). "shares"
 * says what happens at maxproc: cleanup's event loop can serve several
 * clients (commits then take turns), so a client never waits for a process
 * of its own; an smtp process does one delivery at a time, and qmgr's
 * concurrency is its number of channels, so smtp never shares.
 */
static const struct {
	const char *stage;
	int shares;
} peers_one_client[] = {
	{ "cleanup", 1 },	/* each commit waits for fsync: one client per process keeps commits parallel */
	{ "smtp", 0 },		/* one delivery at a time */
	{ "smtpd", 0 },		/* one SMTP session at a time, for its screen */
};

/* peers_capacity - clients per process before another process is started (0: any). */
static int peers_capacity(const char *stage, int *shares)
{
	for (size_t i = 0; i < sizeof(peers_one_client) / sizeof(peers_one_client[0]); i++)
		if (strcmp(peers_one_client[i].stage, stage) == 0) {
			*shares = peers_one_client[i].shares;
			return 1;
		}
	*shares = 1;
	return 0;
}

/* peers_pick - the least-loaded live process of svc with room, or NULL. */
static struct child *peers_pick(struct broker *b, struct service *svc)
{
	int shares, cap = peers_capacity(svc->stage, &shares);
	struct child *best = NULL, *least = NULL;

	for (struct child *c = b->children; c; c = c->next) {
		if (c->retiring || c->ch.fd < 0 || c->svc != svc)
			continue;
		if (least == NULL || c->npeers < least->npeers)
			least = c;
		if (cap && c->npeers >= cap)
			continue;
		if (best == NULL || c->npeers < best->npeers)
			best = c;
	}
	if (best == NULL && cap && svc->nproc < svc->maxproc && !svc->gave_up)
		best = broker_spawn(b, svc);
	return best != NULL ? best : shares ? least : NULL;
}

/*
 * peers_service - the service a request names: by service name, else by
 * stage. Only internal (unix) services count: "smtp" names the SMTP client
 * service even when an inet service of the same name runs smtpd.
 */
static struct service *peers_service(struct broker *b, const struct child *c, const char *name)
{
	struct service *by_stage = NULL;
	int pool = strcmp(c->svc->stage, "screen") == 0 && strcmp(name, "smtpd") == 0;

	for (struct service *s = b->services; s; s = s->next) {
		if (pool && s->nlisten == 0 && strcmp(s->stage, "smtpd") == 0
		    && strcmp(s->name, c->svc->name) == 0)
			return s;
		if (pool)
			continue;
		if (s->nlisten > 0)
			continue;
		if (strcmp(s->name, name) == 0)
			return s;
		if (by_stage == NULL && strcmp(s->stage, name) == 0)
			by_stage = s;
	}
	return by_stage;
}

void broker_peer_request(struct broker *b, struct child *c, const struct ipc_broker_peer_request *r)
{
	struct service *svc = peers_service(b, c, r->peer_stage);
	enum ipc_chan_kind kind;
	struct child *to;
	int sv[2];

	if (svc == NULL) {
		peers_deny(c, r, "no such service or stage");
		return;
	}
	if (b->stopping) {	/* a process started now would miss the SIGTERM */
		peers_deny(c, r, "moatd is stopping");
		return;
	}
	if (ipc_edge_lookup(c->svc->stage, svc->stage, &kind) < 0) {
		msg_warn("%s pid %ld asked for a channel to %s: no such edge", c->svc->stage,
			 (long)c->pid, r->peer_stage);
		peers_deny(c, r, "not allowed");
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		msg_warn("socketpair: %m");
		peers_deny(c, r, "broker out of resources");
		return;
	}
	/* A process that is exiting may refuse the channel: retire it, pick again. */
	for (int tries = 0;; tries++) {
		if (tries == 3 || (to = peers_pick(b, svc)) == NULL) {
			peers_deny(c, r, "no process free (maxproc reached, or not running)");
			break;
		}
		struct ipc_broker_peer_accept a = {
			.peer_stage = c->svc->stage, .peer_pid = (uint32_t)c->pid, .fd = sv[1],
		};
		if (ipc_chan_send(&to->ch, MSG_BROKER_PEER_ACCEPT, &a) < 0) {
			broker_child_retire(b, to);
			continue;
		}
		struct ipc_broker_peer_grant g = {
			.request_id = r->request_id, .peer_stage = r->peer_stage,
			.peer_pid = (uint32_t)to->pid, .fd = sv[0],
		};
		if (ipc_chan_send(&c->ch, MSG_BROKER_PEER_GRANT, &g) < 0)
			msg_warn("grant to %s pid %ld: %s", c->svc->stage, (long)c->pid,
				 buf_str(&c->ch.why));
		else
			to->npeers++;
		break;
	}
	close(sv[0]);
	close(sv[1]);
}
