/*
 * lookup.c - the lookup stage: the one moat process that reads tables.
 *
 * Holds every table the configuration names (hash, btree, pcre, regexp,
 * cidr, texthash, inline, static, unionmap, pipemap), built by maps/ from
 * the fds the broker opened, and answers MSG_LOOKUP_QUERY{id, tables, order,
 * flags, delim, key} on IPC_CHAN_LOOKUP channels from smtpd, cleanup, qmgr,
 * smtp and moatctl with MSG_LOOKUP_REPLY{id, status, value, matched}. Run with
 * STAGE_START_CHECK it opens the tables, logs what is wrong with each, and
 * exits 0 or 1: moatd's start-up and reload check, in the same sandbox.
 * Every LOOKUP_WATCH_MS it looks whether a table file it holds changed on
 * disk (lookup_watch.c); if one did, it leaves and the broker starts a new
 * process on the new files; clients then ask again on a new channel.
 *
 * SECURITY: runs as helper_user (owns no file), chrooted in <queue>/empty,
 * no capabilities, an empty network namespace; it cannot open a file or a
 * socket. Table files are root's configuration, but are parsed with maps/
 * limits anyway (line and value caps, PCRE2 match and depth limits, no
 * JIT). Every query comes from a stage that may be compromised: a table it
 * names that is not held gets LOOKUP_NOTABLE, anything the schema refuses
 * (oversize key, unknown type, garbage) cuts the channel and is reported,
 * an unknown order or flag is a violation too; no query can end the stage.
 */
#include <stdlib.h>
#include <string.h>

#include "daemons/lookup/lookup.h"
#include "ipc/lookupproto.h"
#include "lib/event.h"
#include "lib/msg.h"
#include "lib/ratelimit.h"
#include "lib/xmem.h"
#include "skeleton/stage.h"
#include "skeleton/stage_peer.h"

struct lookup_state {
	struct event_loop *loop;
	struct lookup_tables tables;
	struct buf value;
	struct buf matched;
	struct ratelimit notable;	/* warnings about tables nobody configured */
	int clients;
};

static struct lookup_state lookup_state;

#define LOOKUP_WATCH_MS	2000	/* how often the table files are looked at */

static const char *const lookup_status_word[] = {	/* by LOOKUP_FOUND.. LOOKUP_NOTABLE */
	"found", "not found", "failed", "no such table",
};

/* lookup_answer - the status, value and matched key of one query. */
static int lookup_answer(struct lookup_state *ls, const struct ipc_lookup_query *q,
			 const struct ipc_chan *ch)
{
	const char *missing = "";
	int status;

	buf_reset(&ls->value);
	buf_reset(&ls->matched);
	status = lookup_query_answer(&ls->tables, q, &ls->value, &ls->matched, &missing);
	if (status == LOOKUP_NOTABLE && ratelimit_take(&ls->notable, event_now_ms()))
		msg_warn("%s[%ld] asked about table \"%.*s\", which the configuration does not name",
			 ch->peer_stage, (long)ch->peer_pid, (int)strcspn(missing, "\n") > 200 ? 200
			 : (int)strcspn(missing, "\n"), missing);
	if (status == LOOKUP_FOUND && ls->value.len > LOOKUP_VALUE_MAX) {
		msg_warn("tables %.200s: the value for \"%.100s\" is %zu bytes, more than a reply "
			 "holds (%d): lookup failed", q->tables, q->key, ls->value.len, LOOKUP_VALUE_MAX);
		status = LOOKUP_FAIL;
	}
	if (status != LOOKUP_FOUND) {
		buf_reset(&ls->value);
		buf_reset(&ls->matched);
	}
	msg_debug("query from %s[%ld]: order %u tables %.*s key \"%.100s\": %s", ch->peer_stage,
		  (long)ch->peer_pid, q->order, (int)strcspn(q->tables, "\n") > 100 ? 100
		  : (int)strcspn(q->tables, "\n"), q->tables, q->key, lookup_status_word[status]);
	return status;
}

static int lookup_client_msg(struct stage_peer *p, struct ipc_msg *m)
{
	struct lookup_state *ls = p->app;
	const struct ipc_lookup_query *q = &m->u.lookup_query;
	struct ipc_lookup_reply rep = { 0 };

	if (q->order > LOOKUP_ORDER_MAX || (q->flags & ~(uint32_t)LOOKUP_F_ALL) != 0) {
		buf_reset(&p->ch.why);
		(void)buf_printf(&p->ch.why, "lookup query with order %u flags 0x%x", q->order, q->flags);
		return IPC_RECV_VIOLATION;
	}
	rep.id = q->id;
	rep.status = (uint32_t)lookup_answer(ls, q, &p->ch);
	rep.value = buf_str(&ls->value);
	rep.value_len = (uint32_t)ls->value.len;
	rep.matched = buf_str(&ls->matched);
	rep.matched_len = (uint32_t)ls->matched.len;
	if (ipc_chan_send(&p->ch, MSG_LOOKUP_REPLY, &rep) < 0) {
		msg_warn("lookup channel to %s[%ld]: %s", p->ch.peer_stage, (long)p->ch.peer_pid,
			 buf_str(&p->ch.why));
		return IPC_RECV_ERROR;
	}
	return 0;
}

static void lookup_client_closed(struct stage_peer *p)
{
	((struct lookup_state *)p->app)->clients--;
}

static const struct stage_peer_ops lookup_peer_ops = {
	.kind = IPC_CHAN_LOOKUP, .message = lookup_client_msg, .closed = lookup_client_closed,
};

static void lookup_peer_accept(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd)
{
	if (stage_peer_accept(st, lookup_state.loop, &lookup_peer_ops, peer_stage, peer_pid, fd,
			      &lookup_state) != NULL)
		lookup_state.clients++;
}

/* lookup_check - the one-shot check run: every table opens, or exit 1. */
static void lookup_check(struct lookup_state *ls)
{
	if (ls->tables.broken > 0 || lookup_tables_refuse(&ls->tables) > 0)
		exit(1);
	msg_debug("table check: %zu tables open", ls->tables.n);
	exit(0);
}

/* lookup_watch_tick - a table changed on disk: leave; the next process opens it anew. */
static void lookup_watch_tick(void *ctx)
{
	struct stage *st = ctx;
	const char *changed = lookup_watch_changed(&lookup_state.tables);

	if (changed == NULL) {
		(void)event_timer_add(lookup_state.loop, LOOKUP_WATCH_MS, lookup_watch_tick, st);
		return;
	}
	msg_info("table %s has changed -- restarting", changed);
	(void)stage_leave(st, 0);
}

static void lookup_run(struct stage *st)
{
	struct lookup_state *ls = &lookup_state;

	ls->loop = event_loop_new();	/* here: sandbox_enter closed every fd it did not keep */
	lookup_tables_open(st, &ls->tables);
	if (st->start_flags & STAGE_START_CHECK)
		lookup_check(ls);
	if (ls->tables.broken > 0)
		msg_warn("%zu of %zu tables could not be opened: lookups in them fail (mail that "
			 "needs them is deferred) until they are fixed", ls->tables.broken, ls->tables.n);
	if (event_add(ls->loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("event loop: %m");
	(void)event_timer_add(ls->loop, LOOKUP_WATCH_MS, lookup_watch_tick, st);
	/* Stopped (a table changed, a reload): no query is ever half done
	 * between two turns, so exit now; clients ask the new process. */
	while (!st->stopping)
		if (event_run_once(ls->loop, -1) < 0)
			msg_fatal("event loop: %m");
}

static void lookup_pre_jail(struct stage *st)
{
	(void)st;
	buf_init(&lookup_state.value, MAP_VALUE_MAX + 1);
	buf_init(&lookup_state.matched, LOOKUP_MATCHED_MAX);
	ratelimit_init(&lookup_state.notable, 10, 10000, event_now_ms());
}

static const struct stage_ops lookup_ops = {
	.pre_jail = lookup_pre_jail, .peer_accept = lookup_peer_accept, .run = lookup_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "lookup", &lookup_ops);
}
