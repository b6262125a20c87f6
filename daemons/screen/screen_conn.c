/*
 * screen_conn.c - one client from accept to its first complete command
 * line, and the lists and deadlines of the clients screen holds.
 *
 * On accept: the client's address (getpeername), its exception status, its
 * connection count and rate (screen_anvil.c: "421 4.7.0 <host> Error: too
 * many connections from <addr>" past either limit, with Postfix's warning),
 * the pregreet check (anything it sent before the greeting gets 554), then
 * "220 $smtpd_banner". Then screen waits, without a process of its own, for
 * the first complete line; with it (or SCREEN_INPUT_MAX bytes) the client
 * goes to screen_pool.c. A client that sends no complete line within
 * smtpd_timeout (its stress value if screen was under stress when the
 * client came) gets "421 4.4.2 <host> Error: timeout exceeded". The log lines
 * of a client that screen ends itself are smtpd's: connect from, the
 * reason, disconnect from ... commands=0/0 (written together at the end;
 * screen knows no client host name, so it says unknown[addr]).
 *
 * Each list (waiting for a line, waiting under stress, ready for an smtpd)
 * gets its clients in deadline order, since every client on one list has
 * the same timeout: the head is always the next to expire, and one timer
 * serves them all, whether they are ten or ten thousand.
 *
 * SECURITY: every byte read here is the client's, kept in a capped buffer
 * (SCREEN_INPUT_MAX) and only searched for a line end: screen never parses
 * SMTP. A client costs one fd and a small struct until it sends a line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/screen/screen.h"
#include "ipc/screenproto.h"
#include "lib/logfmt.h"
#include "lib/msg.h"
#include "lib/xmem.h"

#define SCREEN_ACCEPT_BATCH	64	/* accepts per wake-up: the other events get their turn */

static struct buf conn_scratch = { NULL, 0, 0, SCREEN_INPUT_MAX };

void screen_list_put(struct screen *sc, struct screen_conn *c, enum screen_where where)
{
	struct screen_list *l = &sc->lists[where];

	c->where = where;
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

void screen_list_take(struct screen *sc, struct screen_conn *c)
{
	struct screen_list *l = &sc->lists[c->where];

	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->n--;
}

static void conn_timer_fired(void *ctx)
{
	struct screen *sc = ctx;

	sc->timer = 0;
	screen_conn_expire(sc);
}

/* screen_timer_arm - one timer, at the earliest deadline of the list heads. */
void screen_timer_arm(struct screen *sc)
{
	int64_t first = 0, now;

	for (int i = 0; i < SCREEN_NLISTS; i++)
		if (sc->lists[i].head && (first == 0 || sc->lists[i].head->deadline < first))
			first = sc->lists[i].head->deadline;
	if (sc->timer && (first == 0 || first != sc->timer_at)) {
		event_timer_cancel(sc->loop, sc->timer);
		sc->timer = 0;
	}
	if (first == 0 || sc->timer)
		return;
	now = event_now_ms();
	sc->timer = event_timer_add(sc->loop, first > now ? first - now : 0, conn_timer_fired, sc);
	sc->timer_at = first;
}

void screen_conn_free(struct screen *sc, struct screen_conn *c)
{
	if (c->fd >= 0) {
		event_del(sc->loop, c->fd);
		if (close(c->fd) < 0)
			msg_warn("close client socket: %m");
	}
	screen_anvil_disconnect(&sc->anvil, c->client);
	buf_free(&c->in);
	xfree(c);
}

/* conn_reply - a short reply on a fresh socket: one non-blocking send, best effort. */
static void conn_reply(struct screen_conn *c, const char *text)
{
	struct buf out = BUF_INIT;

	(void)buf_printf(&out, "%s\r\n", text);
	(void)send(c->fd, out.data, out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&out);
}

/*
 * screen_conn_end - screen ends this client itself: "connect from", the
 * reason (at the level given), the reply if any, "disconnect from".
 */
static void conn_vend(struct screen *sc, struct screen_conn *c, const char *reply,
		      enum msg_level level, const char *fmt, va_list ap)
{
	msg_info("connect from unknown[%s]", c->peer.text);
	msg_vlog(level, fmt, ap);
	if (reply)
		conn_reply(c, reply);
	msg_info("disconnect from unknown[%s] commands=0/0", c->peer.text);
	screen_conn_free(sc, c);
}

static void conn_end(struct screen *sc, struct screen_conn *c, const char *reply,
		     enum msg_level level, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void conn_end(struct screen *sc, struct screen_conn *c, const char *reply,
		     enum msg_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vend(sc, c, reply, level, fmt, ap);
	va_end(ap);
}

/* screen_conn_end - the client waited in vain (the pool had no smtpd for it). */
void screen_conn_end(struct screen *sc, struct screen_conn *c, const char *reply, const char *why)
{
	conn_end(sc, c, reply, MSG_INFO, "NOQUEUE: reject: CONNECT from unknown[%s]: %s",
		 c->peer.text, why);
}

/* conn_refuse - a connection limit: Postfix's warning and 421 4.7.0. */
static void conn_refuse(struct screen *sc, struct screen_conn *c, const char *what, uint32_t n)
{
	struct buf reply = BUF_INIT;

	(void)buf_printf(&reply, "421 4.7.0 %s Error: too many connections from %s",
			 sc->cf.myhostname, c->peer.text);
	conn_end(sc, c, buf_str(&reply), MSG_WARN, "%s limit exceeded: %u from unknown[%s] for service %s",
		 what, n, c->peer.text, sc->st->service);
	buf_free(&reply);
}

/* conn_limits - count the client; 0 to go on, -1 if refused (c is gone). */
static int conn_limits(struct screen *sc, struct screen_conn *c)
{
	struct screen_client *cl = screen_anvil_connect(&sc->anvil, &c->peer, event_now_ms());

	c->client = cl;
	if (cl == NULL)
		return 0;
	if (sc->cf.count_limit > 0 && cl->count > (uint32_t)sc->cf.count_limit) {
		conn_refuse(sc, c, "Connection concurrency", cl->count);
		return -1;
	}
	if (sc->cf.rate_limit > 0 && cl->conn_rate > (uint32_t)sc->cf.rate_limit) {
		conn_refuse(sc, c, "Connection rate", cl->conn_rate);
		return -1;
	}
	return 0;
}

/* conn_read - what the client sent now, into c->in: n > 0, 0 at EOF, -1 nothing or error. */
static ssize_t conn_read(struct screen_conn *c, int *gone)
{
	size_t room = SCREEN_INPUT_MAX - c->in.len;
	ssize_t n;

	*gone = 0;
	if (buf_reserve(&conn_scratch, room) < 0)
		msg_panic("screen input scratch");
	while ((n = recv(c->fd, conn_scratch.data, room, MSG_DONTWAIT)) < 0 && errno == EINTR)
		;
	if (n > 0 && buf_append(&c->in, conn_scratch.data, (size_t)n) < 0)
		msg_panic("screen input cap");
	*gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
	return n;
}

/* conn_pregreet - 1 if the client talked before the greeting (or left): c is gone. */
static int conn_pregreet(struct screen *sc, struct screen_conn *c)
{
	int gone;

	if (conn_read(c, &gone) > 0) {
		logfmt_printable(&sc->line, c->in.data, c->in.len, 100);
		conn_end(sc, c, "554 5.5.1 Error: SMTP protocol synchronization: talked before the greeting",
			 MSG_INFO, "pregreet: client sent before the greeting: %s from unknown[%s]",
			 buf_str(&sc->line), c->peer.text);
		return 1;
	}
	if (gone) {
		conn_end(sc, c, NULL, MSG_INFO, "lost connection after CONNECT from unknown[%s]",
			 c->peer.text);
		return 1;
	}
	return 0;
}

/* conn_readable - the client sent something (or left). */
static void conn_readable(int fd, unsigned events, void *ctx)
{
	struct screen_conn *c = ctx;
	struct screen *sc = c->sc;
	size_t before = c->in.len;
	int gone;

	(void)fd;
	(void)events;
	if (c->paused) {
		gone = 1;	/* watched for nothing: only an error or hangup wakes us */
	} else if (c->in.len >= SCREEN_INPUT_MAX) {	/* ready and full: read no more */
		c->paused = 1;
		(void)event_mod(sc->loop, c->fd, 0);
		return;
	} else {
		(void)conn_read(c, &gone);
	}
	if (gone) {
		screen_list_take(sc, c);
		conn_end(sc, c, NULL, MSG_INFO, "lost connection after CONNECT from unknown[%s]",
			 c->peer.text);
		screen_timer_arm(sc);
		return;
	}
	if (c->where == SCREEN_READY || c->in.len == before)
		return;		/* already waiting for an smtpd with its line, or nothing new */
	if (memchr(c->in.data + before, '\n', c->in.len - before) == NULL
	    && c->in.len < SCREEN_INPUT_MAX)
		return;		/* only new bytes can hold the first line end */
	screen_list_take(sc, c);
	screen_pool_dispatch(sc, c);
	screen_timer_arm(sc);
}

/* conn_greet - the client may talk now; wait for its first line. */
static void conn_greet(struct screen *sc, struct screen_conn *c)
{
	struct buf greeting = BUF_INIT;
	int stress = sc->stress;
	ssize_t n;

	(void)buf_printf(&greeting, "220 %s\r\n", sc->cf.banner);
	n = send(c->fd, greeting.data, greeting.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&greeting);
	if (n < 0 || event_add(sc->loop, c->fd, EVENT_READ, conn_readable, c) < 0) {
		conn_end(sc, c, NULL, MSG_INFO, "lost connection after CONNECT from unknown[%s]",
			 c->peer.text);
		return;
	}
	c->deadline = event_now_ms() + (int64_t)(stress ? sc->cf.stress_timeout : sc->cf.timeout) * 1000;
	screen_list_put(sc, c, stress ? SCREEN_WAIT_STRESS : SCREEN_WAIT);
}

/* conn_new - a client was accepted on fd, from the address accept gave. */
static void conn_new(struct screen *sc, int fd, const struct sockaddr_storage *ss)
{
	struct screen_conn *c = xcalloc(1, sizeof(*c));

	c->sc = sc;
	c->fd = fd;
	if (++sc->next_id == 0)
		sc->next_id = 1;
	c->id = sc->next_id;
	buf_init(&c->in, SCREEN_INPUT_MAX);
	netaddr_from(&c->peer, ss);
	if (screen_conf_excepted(&sc->cf, &c->peer, fd))
		c->flags |= SCREEN_F_EXCEPT;
	else if (conn_limits(sc, c) < 0)
		return;
	if (conn_pregreet(sc, c))
		return;
	conn_greet(sc, c);
}

/* conn_accept_failed - 1 if the listener must rest (out of fds or memory). */
static int conn_accept_failed(struct screen *sc, int lfd)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
		if (sc->listening)
			msg_warn("accept: %m: %zu clients held; not accepting for a second",
				 sc->lists[SCREEN_WAIT].n + sc->lists[SCREEN_WAIT_STRESS].n
				 + sc->lists[SCREEN_READY].n);
		return 1;
	}
	if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO && errno != EPERM) {
		/* a listener that cannot accept (shut down, broken) must not spin the loop */
		msg_error("listening socket %d: accept: %m; no longer watched", lfd);
		event_del(sc->loop, lfd);
	}
	return 0;
}

/* screen_conn_accept - take what the listener has, a batch at a time. */
void screen_conn_accept(struct screen *sc, int lfd)
{
	for (int i = 0; i < SCREEN_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		/* blocking, as smtpd wants it: screen itself only uses MSG_DONTWAIT calls */
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);

		if (fd >= 0) {
			if (sl > sizeof(ss))
				ss.ss_family = AF_UNSPEC;
			conn_new(sc, fd, &ss);
			continue;
		}
		if (conn_accept_failed(sc, lfd))
			screen_listen_pause(sc);
		break;
	}
	screen_timer_arm(sc);
}

/* screen_conn_expire - end every client whose deadline has passed. */
void screen_conn_expire(struct screen *sc)
{
	int64_t now = event_now_ms();
	struct buf reply = BUF_INIT;

	(void)buf_printf(&reply, "421 4.4.2 %s Error: timeout exceeded", sc->cf.myhostname);
	for (int i = SCREEN_WAIT; i <= SCREEN_WAIT_STRESS; i++) {
		struct screen_conn *c;

		while ((c = sc->lists[i].head) != NULL && c->deadline <= now) {
			screen_list_take(sc, c);
			conn_end(sc, c, buf_str(&reply), MSG_INFO, "timeout after CONNECT from unknown[%s]",
				 c->peer.text);
		}
	}
	buf_free(&reply);
	screen_pool_expire(sc, now);
	screen_timer_arm(sc);
}
