/*
 * screen.c - the screen stage: holds the pre-SMTP connections of one inet
 * service in one event-driven process, in front of its smtpd processes
 * (Postfix's postscreen idea).
 *
 * The broker runs one screen per master.cf inet service and passes it the
 * service's listening sockets at fds 5.. (st->nextra); the service's smtpd
 * processes hold no listener and get connections only from here. One epoll
 * loop (lib/event.h) watches the listeners, every client that has not sent
 * its first command line (screen_conn.c), the channels to smtpd
 * (screen_pool.c) and the broker channel. A client costs a socket and a
 * small struct until it sends a complete line, so idle or trickling clients
 * never occupy an smtpd process; per-client connection counts and rates
 * (screen_anvil.c) are kept here, for the whole service.
 *
 * When the broker asks it to stop (reload, shutdown), it closes its copies
 * of the listeners at once (the new screen accepts on the same sockets),
 * gives the clients it still holds at most the stress timeout, hands over
 * those that send their line, and exits when it holds none and no smtpd
 * session it handed over is still running.
 *
 * SECURITY: runs as network_user (owns no file), chrooted in <queue>/empty,
 * in an empty network namespace, no capabilities; its seccomp allowlist has
 * accept but no socket(), connect, bind or open. It parses no SMTP: it
 * counts, greets, looks for a line end and passes bytes on. It trusts
 * nothing a client or an smtpd sends, and must never block on either: every
 * client socket and smtpd channel is non-blocking. Its only blocking call is
 * the request for a new smtpd channel, to the broker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemons/screen/screen.h"
#include "lib/iox.h"
#include "lib/msg.h"

#define SCREEN_LISTEN_PAUSE_MS	1000	/* out of fds: rest the listeners this long */

static struct screen screen;

static void screen_pre_jail(struct stage *st)
{
	screen_conf_load(&screen.cf, st);
}

static void screen_listener_readable(int fd, unsigned events, void *ctx)
{
	(void)events;
	screen_conn_accept(ctx, fd);
}

/* screen_listen - watch the listeners (again). */
static void screen_listen(struct screen *sc)
{
	for (int i = 0; i < sc->nlisten; i++)
		if (event_add(sc->loop, STAGE_FD_EXTRA + i, EVENT_READ, screen_listener_readable, sc) < 0)
			msg_fatal("watch listening socket %d: %m", STAGE_FD_EXTRA + i);
	sc->listening = 1;
}

static void screen_listen_resume(void *ctx)
{
	struct screen *sc = ctx;

	if (!sc->st->stopping)
		screen_listen(sc);
}

/* screen_listen_pause - out of fds or memory: stop accepting for a while, never spin. */
void screen_listen_pause(struct screen *sc)
{
	if (!sc->listening)
		return;
	for (int i = 0; i < sc->nlisten; i++)
		event_del(sc->loop, STAGE_FD_EXTRA + i);
	sc->listening = 0;
	(void)event_timer_add(sc->loop, SCREEN_LISTEN_PAUSE_MS, screen_listen_resume, sc);
}

static void screen_sweep(void *ctx)
{
	struct screen *sc = ctx;

	screen_anvil_sweep(&sc->anvil, event_now_ms());
	(void)event_timer_add(sc->loop, sc->anvil.unit_ms, screen_sweep, sc);
}

/* screen_held - clients held here, at any stage. */
static size_t screen_held(const struct screen *sc)
{
	size_t n = 0;

	for (int i = 0; i < SCREEN_NLISTS; i++)
		n += sc->lists[i].n;
	return n;
}

/* screen_stop - stop accepting; what is held gets at most the stress timeout. */
static void screen_stop(struct screen *sc)
{
	int64_t last = event_now_ms() + (int64_t)sc->cf.stress_timeout * 1000;

	if (sc->listening)
		for (int i = 0; i < sc->nlisten; i++)
			event_del(sc->loop, STAGE_FD_EXTRA + i);
	sc->listening = 0;
	for (int i = 0; i < sc->nlisten; i++)
		(void)close(STAGE_FD_EXTRA + i);
	sc->nlisten = 0;
	/* min() with one constant keeps every list in deadline order */
	for (int i = 0; i < SCREEN_NLISTS; i++)
		for (struct screen_conn *c = sc->lists[i].head; c; c = c->next)
			if (c->deadline > last)
				c->deadline = last;
	screen_pool_stop(sc);
	screen_timer_arm(sc);
}

static void screen_init(struct screen *sc, struct stage *st)
{
	sc->st = st;
	sc->loop = event_loop_new();
	sc->nlisten = st->nextra;
	ipc_msg_init(&sc->msg);
	buf_init(&sc->line, 4096);
	screen_anvil_init(&sc->anvil, sc->cf.rate_unit, sc->cf.rates);
	for (int i = 0; i < sc->nlisten; i++)
		if (iox_set_nonblock(STAGE_FD_EXTRA + i, 1) < 0)
			msg_fatal("listening socket %d: %m", STAGE_FD_EXTRA + i);
	if (iox_set_nonblock(st->broker.fd, 0) < 0
	    || event_add(sc->loop, st->broker.fd, EVENT_READ, stage_broker_readable, st) < 0)
		msg_fatal("broker channel: %m");
	screen_listen(sc);
	screen_pool_start(sc);
	if (sc->cf.rates)
		(void)event_timer_add(sc->loop, sc->anvil.unit_ms, screen_sweep, sc);
}

static void screen_run(struct stage *st)
{
	struct screen *sc = &screen;
	int stopped = 0;

	screen_init(sc, st);
	for (;;) {
		if (st->stopping && !stopped) {
			screen_stop(sc);
			stopped = 1;
		}
		if (stopped && screen_held(sc) == 0 && screen_pool_busy(sc) == 0)
			return;
		if (event_run_once(sc->loop, 1000) < 0)
			msg_fatal("event loop: %m");
		screen_pool_tick(sc);
	}
}

static const struct stage_ops screen_ops = {
	.pre_jail = screen_pre_jail,
	.run = screen_run,
};

int main(int argc, char **argv)
{
	return stage_main(argc, argv, "screen", &screen_ops);
}
