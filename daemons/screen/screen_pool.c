/*
 * screen_pool.c - the channels to the smtpd processes of this service.
 *
 * A client with its first line goes to an idle smtpd in one message:
 * MSG_SCREEN_CONN with the connection fd and the bytes read so far; then
 * screen closes its copy of the fd. Channels come from the broker
 * (stage_request_peer "smtpd": the pool of this service); each serves one
 * session at a time and is kept for the next. One idle channel is kept in
 * hand when the pool can grow, so a new client never waits for an exec.
 * When the broker has no smtpd to give (maxproc reached), ready clients
 * wait here in a FIFO, at most postscreen_post_queue_limit of them and for
 * at most the stress smtpd_timeout ("421 4.3.2 All server ports are busy"
 * after that), and screen is under stress: clients handed over get the
 * stress flag (smtpd then uses the stress values), and new clients the
 * stress timeout for their first line. The "has reached its process limit"
 * warning is logged once per SCREEN_LIMIT_WARN_MS.
 *
 * smtpd says DONE when a session ends (the client's connection count goes
 * down), RETIRE when it wants to exit (screen closes the channel once it is
 * idle, so no connection is ever sent to a process that is leaving), and
 * RATE to count a MAIL or RCPT of its current client. A channel that dies
 * with a session ends that session's count. Anything else, or DONE/RATE for
 * a session the channel does not have, is a protocol violation: screen
 * reports that smtpd to the broker and closes the channel.
 *
 * SECURITY: an smtpd may be compromised. It can only end or count its own
 * session (screen knows which client each channel has), never send screen
 * an fd (the schema gives it none), and never make screen block: channels
 * are non-blocking, and a send that would block closes the channel.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemons/screen/screen.h"
#include "ipc/screenproto.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "lib/xmem.h"

#define SCREEN_LIMIT_WARN_MS	(1000 * 1000)	/* Postfix's master: once per 1000 s */
#define SCREEN_POOL_RETRY_MS	1000	/* without a channel: ask the broker again after a no */
#define SCREEN_POOL_RECHECK_MS	10000	/* with channels, all busy, clients waiting */

static void pool_drain(struct screen *sc);

/* pool_stress - recompute stress; the limit warning when it starts. */
static void pool_stress(struct screen *sc)
{
	int64_t now;

	sc->stress = sc->pool_full && sc->nidle == 0;
	if (!sc->stress || sc->nchan == 0)
		return;		/* no channel at all is no process limit (a restart, a reload) */
	now = event_now_ms();
	if (sc->limit_warned && now - sc->limit_warned < SCREEN_LIMIT_WARN_MS)
		return;
	sc->limit_warned = now;
	msg_warn("service \"%s\" (smtpd) has reached its process limit \"%d\": "
		 "new clients may experience noticeable delays", sc->st->service, sc->nchan);
	msg_warn("to avoid this condition, increase the process count in master.cf "
		 "or reduce the service time per client");
}

static void pool_chan_close(struct screen *sc, struct screen_chan *ch)
{
	event_del(sc->loop, ch->ch.fd);
	ipc_chan_close(&ch->ch);
	if (ch->busy)
		screen_anvil_disconnect(&sc->anvil, ch->client);
	else
		sc->nidle--;
	if (ch->prev)
		ch->prev->next = ch->next;
	else
		sc->chans = ch->next;
	if (ch->next)
		ch->next->prev = ch->prev;
	sc->nchan--;
	sc->pool_full = 0;	/* that process left or is free again: the broker may have one */
	xfree(ch);
	pool_stress(sc);
}

/* pool_violation - the smtpd broke the protocol: report it, drop the channel. */
static void pool_violation(struct screen *sc, struct screen_chan *ch, const char *why)
{
	stage_report_violation(sc->st, &ch->ch, why);
	pool_chan_close(sc, ch);
}

/* pool_done - a session ended: the channel is free for the next client. */
static int pool_done(struct screen *sc, struct screen_chan *ch, uint32_t session)
{
	if (!ch->busy || session != ch->session) {
		pool_violation(sc, ch, "MSG_SCREEN_DONE for a session it does not have");
		return -1;
	}
	screen_anvil_disconnect(&sc->anvil, ch->client);
	ch->client = NULL;
	ch->busy = 0;
	sc->nidle++;
	if (ch->retiring || (sc->st->stopping && sc->lists[SCREEN_READY].n == 0)) {
		pool_chan_close(sc, ch);
		return -1;
	}
	pool_stress(sc);
	return 0;
}

/* pool_rate - count a MAIL/RCPT of the channel's client and answer with the rate. */
static int pool_rate(struct screen *sc, struct screen_chan *ch, const struct ipc_screen_rate *r)
{
	struct ipc_screen_rate_reply rep = { .session = r->session };

	if (!ch->busy || r->session != ch->session
	    || (r->event != SCREEN_RATE_MAIL && r->event != SCREEN_RATE_RCPT)) {
		pool_violation(sc, ch, "MSG_SCREEN_RATE for a session it does not have");
		return -1;
	}
	rep.rate = screen_anvil_event(&sc->anvil, ch->client, r->event, event_now_ms());
	if (ipc_chan_send(&ch->ch, MSG_SCREEN_RATE_REPLY, &rep) < 0) {
		msg_warn("smtpd[%ld] channel: %s", (long)ch->ch.peer_pid, buf_str(&ch->ch.why));
		pool_chan_close(sc, ch);
		return -1;
	}
	return 0;
}

/* pool_message - act on one message; -1 if the channel is gone. */
static int pool_message(struct screen *sc, struct screen_chan *ch, struct ipc_msg *m)
{
	switch (m->type) {
	case MSG_SCREEN_DONE:
		return pool_done(sc, ch, m->u.screen_done.session);
	case MSG_SCREEN_RETIRE:
		ch->retiring = 1;
		if (!ch->busy) {
			pool_chan_close(sc, ch);
			return -1;
		}
		return 0;
	case MSG_SCREEN_RATE:
		return pool_rate(sc, ch, &m->u.screen_rate);
	default:
		msg_panic("channel allowlist let %s through", ipc_type_name(m->type));
	}
}

/*
 * pool_readable - one message from an smtpd (the loop comes back while
 * more are waiting: no read that finds nothing); then hand waiting clients
 * to free channels.
 */
static void pool_readable(int fd, unsigned events, void *ctx)
{
	struct screen_chan *ch = ctx;
	struct screen *sc = ch->sc;
	int r = ipc_chan_recv(&ch->ch, &sc->msg);

	(void)fd;
	(void)events;
	if (r == IPC_RECV_MSG)
		(void)pool_message(sc, ch, &sc->msg);
	else if (r == IPC_RECV_VIOLATION)
		pool_violation(sc, ch, buf_str(&ch->ch.why));
	else if (r != IPC_RECV_AGAIN)
		pool_chan_close(sc, ch);	/* EOF or error: the process is gone */
	ipc_msg_reset(&sc->msg);
	pool_drain(sc);
	screen_timer_arm(sc);
}

/* pool_request - one more channel from the broker; NULL if it has no smtpd to give. */
static struct screen_chan *pool_request(struct screen *sc)
{
	struct screen_chan *ch;
	pid_t pid = 0;
	int fd;

	if (sc->pool_full)
		return NULL;
	if ((fd = stage_request_peer(sc->st, "smtpd", &pid)) < 0) {
		sc->pool_full = 1;
		sc->pool_denied = event_now_ms();
		pool_stress(sc);
		return NULL;
	}
	ch = xcalloc(1, sizeof(*ch));
	ch->sc = sc;
	ipc_chan_init(&ch->ch, fd, IPC_CHAN_SCREEN, IPC_SIDE_A, "smtpd", pid);
	if (iox_set_nonblock(fd, 1) < 0 || event_add(sc->loop, fd, EVENT_READ, pool_readable, ch) < 0) {
		msg_warn("channel to smtpd[%ld]: %m", (long)pid);
		ipc_chan_close(&ch->ch);
		xfree(ch);
		return NULL;
	}
	ch->next = sc->chans;
	if (sc->chans)
		sc->chans->prev = ch;
	sc->chans = ch;
	sc->nchan++;
	sc->nidle++;
	return ch;
}

/* pool_get - an idle channel, or a new one; NULL if there is none to be had. */
static struct screen_chan *pool_get(struct screen *sc)
{
	for (struct screen_chan *ch = sc->chans; ch; ch = ch->next)
		if (!ch->busy && !ch->retiring)
			return ch;
	return pool_request(sc);
}

/*
 * pool_send - give c to ch: one message with the fd and the bytes read;
 * -1 if ch broke (it is closed; c is untouched). The session is stressed
 * when c waited, or when it takes the last smtpd the pool can have.
 */
static int pool_send(struct screen *sc, struct screen_chan *ch, struct screen_conn *c, int waited)
{
	int stress = waited || (sc->pool_full && sc->nidle <= 1);
	struct ipc_screen_conn m = {
		.session = c->id, .flags = (c->flags & ~SCREEN_F_STRESS) | (stress ? SCREEN_F_STRESS : 0),
		.input = (const unsigned char *)c->in.data, .input_len = (uint32_t)c->in.len,
		.fd = c->fd,
	};

	if (ipc_chan_send(&ch->ch, MSG_SCREEN_CONN, &m) < 0) {
		msg_warn("smtpd[%ld] channel: %s", (long)ch->ch.peer_pid, buf_str(&ch->ch.why));
		pool_chan_close(sc, ch);
		return -1;
	}
	ch->busy = 1;
	ch->session = c->id;
	ch->client = c->client;
	c->client = NULL;	/* the channel counts the client now */
	sc->nidle--;
	return 0;
}

/* pool_spare - keep one idle channel in hand while the pool can grow. */
static void pool_spare(struct screen *sc)
{
	if (sc->nidle == 0 && !sc->st->stopping)
		(void)pool_request(sc);
	pool_stress(sc);
}

/* screen_pool_dispatch - c has its first line: to an smtpd now, or into the FIFO. */
void screen_pool_dispatch(struct screen *sc, struct screen_conn *c)
{
	struct screen_chan *ch;

	while (sc->lists[SCREEN_READY].n == 0 && (ch = pool_get(sc)) != NULL) {
		if (pool_send(sc, ch, c, 0) == 0) {
			screen_conn_free(sc, c);	/* our copy of the fd: smtpd has its own */
			pool_spare(sc);
			return;
		}
	}
	if (sc->lists[SCREEN_READY].n >= (size_t)sc->cf.post_queue_limit) {
		screen_conn_end(sc, c, "421 4.3.2 All server ports are busy", "all server ports busy");
		return;
	}
	c->deadline = event_now_ms() + (int64_t)sc->cf.stress_timeout * 1000;
	screen_list_put(sc, c, SCREEN_READY);
	pool_stress(sc);
}

/* pool_drain - hand waiting clients to free channels, oldest first. */
static void pool_drain(struct screen *sc)
{
	struct screen_conn *c;
	struct screen_chan *ch;

	while ((c = sc->lists[SCREEN_READY].head) != NULL && (ch = pool_get(sc)) != NULL) {
		if (pool_send(sc, ch, c, 1) < 0)
			continue;
		screen_list_take(sc, c);
		screen_conn_free(sc, c);
	}
	if (sc->lists[SCREEN_READY].n == 0)
		pool_spare(sc);
}

/* screen_pool_expire - ready clients that waited too long for an smtpd. */
void screen_pool_expire(struct screen *sc, int64_t now)
{
	struct screen_conn *c;

	while ((c = sc->lists[SCREEN_READY].head) != NULL && c->deadline <= now) {
		screen_list_take(sc, c);
		screen_conn_end(sc, c, "421 4.3.2 All server ports are busy", "all server ports busy");
	}
}

/*
 * screen_pool_stop - the broker asked us to stop (a reload): idle channels
 * go now, busy ones at their DONE; clients still held go to the pool the
 * broker has now (after a reload, the new one), so ask it afresh.
 */
void screen_pool_stop(struct screen *sc)
{
	struct screen_chan *ch = sc->chans, *next;

	for (; ch; ch = next) {
		next = ch->next;
		if (!ch->busy)
			pool_chan_close(sc, ch);
	}
	sc->pool_full = 0;
	pool_drain(sc);
}

/*
 * screen_pool_tick - about once a second: after a no from the broker, ask
 * again. A channel's end is the usual news that the pool has room, but a
 * no may not have been about this screen's own channels (after a reload,
 * the old screen held the new pool's first process for a moment): without
 * any channel, ask again soon; with clients waiting, now and then.
 */
void screen_pool_tick(struct screen *sc)
{
	int64_t since = event_now_ms() - sc->pool_denied;

	if (!sc->pool_full)
		return;
	if (sc->nchan > 0 && (sc->lists[SCREEN_READY].n == 0 || since < SCREEN_POOL_RECHECK_MS))
		return;
	if (sc->nchan == 0 && since < SCREEN_POOL_RETRY_MS)
		return;
	sc->pool_full = 0;
	pool_drain(sc);
	screen_timer_arm(sc);
}

/* screen_pool_start - take one channel before the first client, so it never waits for an exec. */
void screen_pool_start(struct screen *sc)
{
	pool_spare(sc);
}

/* screen_pool_busy - channels with a session in progress. */
int screen_pool_busy(const struct screen *sc)
{
	return sc->nchan - sc->nidle;
}
