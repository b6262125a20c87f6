/*
 * peers.c - hand out stage-to-stage channels.
 *
 * Stages have no way to reach each other except through the broker: a stage
 * asks for a channel to a peer stage by name; the broker checks the edge
 * table (ipc/channels.def), picks a live process of that stage (the one
 * serving the fewest open channels), makes a socketpair, and sends one end
 * to each side, telling each who is on the other end. The broker never reads
 * what flows on these channels.
 *
 * A request names a stage ("cleanup") or a master.cf service ("relay", which
 * runs the smtp stage with its own -o settings). ONE_CLIENT stages
 * (sandbox/stages.def) serve one client channel per process, so that work
 * that blocks (an fsync, an SMTP session) in one never stalls another
 * client: for those the broker starts another process, within
 * broker_may_spawn, when every process has a channel; past that, SHARES
 * stages (cleanup) take a second client, the others (smtp) do not.
 *
 * SECURITY: the load of a process is the broker's own count of the open
 * channels it granted it (grants.c), never what the stage reports. A client
 * holds at most STAGEDEF_PEER_CHANNELS open channels to one service (a
 * FANS_OUT stage, the scheduler: as many as the service may have
 * processes), counted the same way, grants in flight included; requests
 * pass the client's rate limit. So no stage can make the broker fork
 * without bound, or be given every channel of a service.
 *
 * screen's request for its SCREENED stage ("smtpd") means the pool of its
 * own inet service, as the current configuration has it (a screen retiring
 * after a reload still hands its last connections to the new pool of the
 * same name). No other stage may ask for a SCREENED pool.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/broker/broker.h"

static void peers_deny(struct child *c, const struct ipc_broker_peer_request *r, const char *why)
{
	struct ipc_broker_peer_deny d = {
		.request_id = r->request_id, .peer_stage = r->peer_stage, .reason = why,
	};

	if (ipc_chan_send(&c->ch, MSG_BROKER_PEER_DENY, &d) < 0)
		broker_child_log(c, MSG_WARN, "deny to %s pid %ld: %s", c->svc->stage, (long)c->pid,
				 buf_str(&c->ch.why));
}

/*
 * peers_capacity - clients per process before another process is started
 * (0: any), from the stage table. *shares says what happens at maxproc:
 * cleanup's event loop can serve several clients (commits then take turns),
 * so a client never waits for a process of its own; an smtp process does one
 * delivery at a time, and qmgr's concurrency is its number of channels, so
 * smtp never shares.
 */
static int peers_capacity(const struct service *svc, int *shares)
{
	unsigned f = svc->def->flags;

	*shares = !(f & STAGEDEF_F_ONE_CLIENT) || (f & STAGEDEF_F_SHARES);
	return (f & STAGEDEF_F_ONE_CLIENT) ? 1 : 0;
}

/* peers_pick - the least-loaded live process of svc with room, or NULL. */
static struct child *peers_pick(struct broker *b, struct service *svc)
{
	int shares, cap = peers_capacity(svc, &shares), best_n = 0, least_n = 0;
	struct child *best = NULL, *least = NULL;

	for (struct child *c = b->children; c; c = c->next) {
		if (c->retiring || c->ch.fd < 0 || c->svc != svc)
			continue;
		int n = broker_grant_served(b, c);

		if (least == NULL || n < least_n) {
			least = c;
			least_n = n;
		}
		if (cap && n >= cap)
			continue;
		if (best == NULL || n < best_n) {
			best = c;
			best_n = n;
		}
	}
	if (best == NULL && cap && broker_may_spawn(b, svc))
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
	const struct stagedef *want = stagedef_lookup(name);
	int pool = (c->svc->def->flags & STAGEDEF_F_LISTENS) && want && (want->flags & STAGEDEF_F_SCREENED);
	struct service *by_stage = NULL;

	for (struct service *s = b->services; s; s = s->next) {
		if (pool) {	/* the screen's own pool: same master.cf line */
			if (s->def == want && strcmp(s->name, c->svc->name) == 0)
				return s;
			continue;
		}
		if (s->nlisten > 0 || (s->def->flags & STAGEDEF_F_SCREENED))
			continue;
		if (strcmp(s->name, name) == 0)
			return s;
		if (by_stage == NULL && strcmp(s->stage, name) == 0)
			by_stage = s;
	}
	return by_stage;
}

/* peers_refusal - why c may not have a channel to svc now, or NULL. */
static const char *peers_refusal(struct broker *b, struct child *c, const struct service *svc,
				 const char *name, enum ipc_chan_kind *kind)
{
	int limit = (c->svc->def->flags & STAGEDEF_F_FANS_OUT) ? svc->maxproc : STAGEDEF_PEER_CHANNELS;

	if (ipc_edge_lookup(c->svc->stage, svc->stage, kind) < 0) {
		broker_child_log(c, MSG_WARN, "%s pid %ld asked for a channel to %s: no such edge",
				 c->svc->stage, (long)c->pid, name);
		return "not allowed";
	}
	if (broker_grant_held(b, c, svc) >= limit) {
		broker_child_log(c, MSG_WARN, "%s pid %ld asked for a channel to %s while it holds "
				 "%d open: denied", c->svc->stage, (long)c->pid, name, limit);
		return "too many open channels to that service";
	}
	return NULL;
}

/* peers_join - send each end to its side; 0, or -1 if the server refused it. */
static int peers_join(struct broker *b, struct child *c, struct child *to,
		      const struct ipc_broker_peer_request *r, const int sv[2])
{
	struct ipc_broker_peer_accept a = {
		.peer_stage = c->svc->stage, .peer_pid = (uint32_t)c->pid, .fd = sv[1],
	};
	struct ipc_broker_peer_grant g = {
		.request_id = r->request_id, .peer_stage = r->peer_stage,
		.peer_pid = (uint32_t)to->pid, .fd = sv[0],
	};

	if (ipc_chan_send(&to->ch, MSG_BROKER_PEER_ACCEPT, &a) < 0)
		return -1;
	broker_grant_add(b, c, to, sv[1]);
	if (ipc_chan_send(&c->ch, MSG_BROKER_PEER_GRANT, &g) < 0)
		broker_child_log(c, MSG_WARN, "grant to %s pid %ld: %s", c->svc->stage, (long)c->pid,
				 buf_str(&c->ch.why));
	return 0;
}

void broker_peer_request(struct broker *b, struct child *c, const struct ipc_broker_peer_request *r)
{
	enum ipc_chan_kind kind;
	struct service *svc;
	const char *why;
	struct child *to;
	int sv[2];

	if (!ratelimit_take(&c->requests, event_now_ms())) {
		peers_deny(c, r, "too many requests");
		return;
	}
	if ((svc = peers_service(b, c, r->peer_stage)) == NULL) {
		peers_deny(c, r, "no such service or stage");
		return;
	}
	if (b->stopping) {	/* a process started now would miss the SIGTERM */
		peers_deny(c, r, "moatd is stopping");
		return;
	}
	if ((why = peers_refusal(b, c, svc, r->peer_stage, &kind)) != NULL) {
		peers_deny(c, r, why);
		return;
	}
	if (ipc_chan_pair(kind, sv) < 0) {
		broker_child_log(c, MSG_WARN, "channel for %s pid %ld: socketpair: %m", c->svc->stage,
				 (long)c->pid);
		peers_deny(c, r, "broker out of resources");
		return;
	}
	/* A process that is exiting may refuse the channel: retire it, pick again. */
	for (int tries = 0;; tries++) {
		if (tries == 3 || (to = peers_pick(b, svc)) == NULL) {
			peers_deny(c, r, "no process free (maxproc reached, or not running)");
			break;
		}
		if (peers_join(b, c, to, r, sv) == 0)
			break;
		broker_child_retire(b, to);
	}
	close(sv[0]);
	close(sv[1]);
}
