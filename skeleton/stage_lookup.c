/*
 * stage_lookup.c - a stage's client side of the lookup channel (stage_lookup.h).
 *
 * Called by stages that use tables (smtpd, cleanup, qmgr, smtp) and by
 * moatctl lookup.
 *
 * SECURITY: the lookup stage is another process and may be compromised: an
 * answer is taken only if it is the reply to our query (same id), a
 * violation of the channel's protocol ends the channel and is reported to
 * the broker, and a lookup stage that does not answer within LOOKUP_TIMEOUT
 * gives LOOKUP_FAIL, never a hung client. The value is bounded by the
 * schema. Nothing here opens a table or a file.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "lib/msg.h"
#include "skeleton/stage_lookup.h"

/* client_ask's "the channel closed": IPC_RECV_EOF is 0, which is LOOKUP_FOUND. */
#define CLIENT_EOF	(-100)

void lookup_client_init(struct lookup_client *lc, struct stage *st)
{
	memset(lc, 0, sizeof(*lc));
	lc->st = st;
	lc->ch.fd = -1;
	buf_init(&lc->ch.why, 0);
	ipc_msg_init(&lc->m);
	lookup_cache_init(&lc->cache);
}

/* client_bound - a lookup stage that stops answering costs LOOKUP_TIMEOUT, no more. */
static void client_bound(int fd)
{
	struct timeval tv = { LOOKUP_TIMEOUT, 0 };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		msg_warn("lookup channel: cannot bound waits: %m");
}

void lookup_client_adopt(struct lookup_client *lc, int fd, pid_t peer_pid)
{
	client_bound(fd);
	ipc_chan_init(&lc->ch, fd, IPC_CHAN_LOOKUP, IPC_SIDE_A, "lookup", peer_pid);
}

void lookup_client_free(struct lookup_client *lc)
{
	if (lc->ch.fd >= 0)
		ipc_chan_close(&lc->ch);
	lc->ch.fd = -1;
	buf_free(&lc->ch.why);
	ipc_msg_free(&lc->m);
	lookup_cache_clear(&lc->cache);
}

void lookup_client_clear(struct lookup_client *lc)
{
	lookup_cache_clear(&lc->cache);
}

/* client_connect - a channel to the lookup stage from the broker; -1 if none. */
static int client_connect(struct lookup_client *lc)
{
	pid_t pid = 0;
	int fd;

	if (lc->ch.fd >= 0)
		return 0;
	if (lc->st == NULL || (fd = stage_request_peer(lc->st, "lookup", &pid)) < 0)
		return -1;
	lookup_client_adopt(lc, fd, pid);
	return 0;
}

/* client_drop - the channel is dead (the lookup stage restarted, or broke the protocol). */
static void client_drop(struct lookup_client *lc, int r)
{
	if (r == IPC_RECV_VIOLATION && lc->st)
		stage_report_violation(lc->st, &lc->ch, buf_str(&lc->ch.why));
	else if (r != CLIENT_EOF)
		msg_warn("lookup channel to %s[%ld]: %s", lc->ch.peer_stage, (long)lc->ch.peer_pid,
			 buf_str(&lc->ch.why));
	ipc_chan_close(&lc->ch);
	lc->ch.fd = -1;
}

void lookup_answer_init(struct lookup_answer *a)
{
	a->status = LOOKUP_FAIL;
	buf_init(&a->value, LOOKUP_VALUE_MAX);
	buf_init(&a->matched, LOOKUP_MATCHED_MAX);
}

void lookup_answer_free(struct lookup_answer *a)
{
	buf_free(&a->value);
	buf_free(&a->matched);
}

/* client_reply - a reply that is no answer to our query is a violation. */
static int client_reply(struct lookup_client *lc, uint32_t id, struct lookup_answer *a)
{
	const struct ipc_lookup_reply *r = &lc->m.u.lookup_reply;

	if (r->id != id || r->status > LOOKUP_NOTABLE) {
		buf_reset(&lc->ch.why);
		(void)buf_printf(&lc->ch.why, "reply id %u status %u to query %u", r->id, r->status, id);
		return IPC_RECV_VIOLATION;
	}
	buf_reset(&a->value);
	buf_reset(&a->matched);
	if (r->status == LOOKUP_FOUND && (buf_set(&a->value, r->value, r->value_len) < 0
					  || buf_set(&a->matched, r->matched, r->matched_len) < 0)) {
		msg_warn("lookup: value of %u bytes does not fit the caller's buffer", r->value_len);
		return LOOKUP_FAIL;
	}
	return (int)r->status;
}

/* client_ask - one query on the current channel: a LOOKUP_* status, or an IPC_RECV_* error. */
static int client_ask(struct lookup_client *lc, const struct lookup_key *k, struct lookup_answer *a)
{
	struct ipc_lookup_query q = {
		.id = ++lc->next_id, .tables = k->tables, .order = k->order, .flags = k->flags,
		.delim = k->delim, .key = k->key,
	};
	int r;

	if (ipc_chan_send(&lc->ch, MSG_LOOKUP_QUERY, &q) < 0)
		return IPC_RECV_ERROR;
	r = ipc_chan_recv(&lc->ch, &lc->m);
	if (r != IPC_RECV_MSG)
		return r == IPC_RECV_EOF ? CLIENT_EOF : r;
	return client_reply(lc, q.id, a);
}

/* client_valid - what the schema would refuse is refused here, before it costs the channel. */
static int client_valid(const struct lookup_key *k)
{
	return strlen(k->tables) <= LOOKUP_TABLE_MAX && strlen(k->key) <= LOOKUP_KEY_MAX
	       && strlen(k->delim) <= LOOKUP_DELIM_MAX && k->order <= LOOKUP_ORDER_MAX
	       && (k->flags & ~(uint32_t)LOOKUP_F_ALL) == 0;
}

int lookup_query(struct lookup_client *lc, const struct lookup_key *k, struct lookup_answer *a)
{
	int r = CLIENT_EOF;

	if (lookup_cache_get(&lc->cache, k, a))
		return a->status;
	a->status = LOOKUP_FAIL;
	if (!client_valid(k)) {
		msg_warn("lookup %.200s: key of %zu bytes or bad order: not asked", k->tables,
			 strlen(k->key));
		return LOOKUP_FAIL;
	}
	/* a second try on a new channel: the lookup stage restarts when a table changes */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (client_connect(lc) < 0)
			return LOOKUP_FAIL;
		r = client_ask(lc, k, a);
		if (r >= LOOKUP_FOUND && r <= LOOKUP_NOTABLE)
			break;
		client_drop(lc, r);
		if (r == IPC_RECV_VIOLATION)
			return LOOKUP_FAIL;
	}
	if (r < LOOKUP_FOUND || r > LOOKUP_NOTABLE)
		return LOOKUP_FAIL;
	a->status = r;
	if (r != LOOKUP_FAIL)
		lookup_cache_put(&lc->cache, k, a);
	return r;
}
