/*
 * screen.h - the screen stage's shared types: configuration, connections,
 * per-client counts and the channels to the service's smtpd processes.
 *
 *   screen.c        stage entry, pre-jail, the event loop, the listeners
 *   screen_conf.c   main.cf: timeouts (normal and stress), limits, exceptions
 *   screen_conn.c   one client before its first command: limits, greeting,
 *                   first line, deadline, and the lines of a session ended here
 *   screen_pool.c   the smtpd channels: hand-off, the FIFO of ready
 *                   clients, stress, session ends and client rates
 *   screen_anvil.c  per-client connection counts and event rates (Postfix's anvil)
 */
#ifndef MOAT_SCREEN_SCREEN_H
#define MOAT_SCREEN_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "lib/buf.h"
#include "lib/event.h"
#include "lib/netaddr.h"
#include "mail/mynetworks.h"
#include "skeleton/stage.h"

struct screen_conf {
	const char *myhostname, *banner;
	int timeout, stress_timeout;	/* smtpd_timeout as it reads normally and under stress */
	int count_limit;		/* smtpd_client_connection_count_limit, 0 = none */
	int rate_limit;			/* smtpd_client_connection_rate_limit, 0 = none */
	int rate_unit;			/* anvil_rate_time_unit, seconds */
	int rates;			/* any rate limit set: keep per-client windows */
	int post_queue_limit;		/* postscreen_post_queue_limit: ready clients that may wait */
	struct mynetworks mynetworks;
	struct cidr_list exceptions;	/* smtpd_client_event_limit_exceptions */
	int except_mynetworks;		/* ... names $mynetworks, which is computed */
};

/* One client address (Postfix's anvil entry); count keeps it alive. */
struct screen_client {
	int family;
	unsigned char ip[16];
	uint32_t count;			/* connections now: held here or in an smtpd */
	uint32_t conn_rate, mail_rate, rcpt_rate;
	int64_t start;			/* ms: when the current rate window began */
	struct screen_client *next;	/* hash chain */
};

struct screen_anvil {
	struct screen_client **bucket;
	size_t nbucket, n, max;
	int64_t unit_ms;
	int keep;			/* windows matter: keep idle entries until theirs ends */
	int warned;
	unsigned char key[16];
};

/* Lists a connection can be on, each ordered by deadline. */
enum screen_where { SCREEN_WAIT, SCREEN_WAIT_STRESS, SCREEN_READY, SCREEN_NLISTS };

struct screen_list {
	struct screen_conn *head, *tail;
	size_t n;
};

/* A client held here: greeted, waiting for its first line, or for an smtpd. */
struct screen_conn {
	struct screen *sc;
	int fd;
	uint32_t id;
	enum screen_where where;
	unsigned flags;			/* SCREEN_F_* for the hand-off */
	int64_t deadline;		/* ms */
	int paused;			/* buffer full: not reading until handed off */
	struct netaddr peer;
	struct screen_client *client;	/* counted there, or NULL */
	struct buf in;			/* what it sent, at most SCREEN_INPUT_MAX */
	struct screen_conn *prev, *next;
};

/* One channel to an smtpd process. */
struct screen_chan {
	struct screen *sc;
	struct ipc_chan ch;
	int busy;			/* a session was handed over, DONE not seen yet */
	int retiring;			/* the smtpd asked to go: close when idle */
	uint32_t session;
	struct screen_client *client;	/* the busy session's client (counted), or NULL */
	struct screen_chan *prev, *next;
};

struct screen {
	struct stage *st;
	struct screen_conf cf;
	struct event_loop *loop;
	int nlisten;
	int listening;			/* listeners watched (0 while out of fds, or stopping) */
	struct screen_list lists[SCREEN_NLISTS];
	uint32_t next_id;
	uint64_t timer;			/* the deadline timer, 0 if none */
	int64_t timer_at;
	struct screen_chan *chans;
	int nchan, nidle;
	int pool_full;			/* the broker had no smtpd to give: ask again after a channel
					 * ends, or SCREEN_POOL_RETRY_MS after it said no */
	int64_t pool_denied;		/* when it said no */
	int stress;			/* every smtpd busy and no more to get */
	int64_t limit_warned;		/* last "reached its process limit" warning */
	struct screen_anvil anvil;
	struct ipc_msg msg;
	struct buf line;		/* scratch for log text */
};

/* screen.c */
void screen_listen_pause(struct screen *sc);

/* screen_conf.c */
void screen_conf_load(struct screen_conf *cf, const struct stage *st);
int screen_conf_excepted(const struct screen_conf *cf, const struct netaddr *peer, int fd);

/* screen_anvil.c */
void screen_anvil_init(struct screen_anvil *a, int rate_unit, int keep);
struct screen_client *screen_anvil_connect(struct screen_anvil *a, const struct netaddr *peer,
					   int64_t now);
void screen_anvil_disconnect(struct screen_anvil *a, struct screen_client *c);
uint32_t screen_anvil_event(struct screen_anvil *a, struct screen_client *c, uint32_t event,
			    int64_t now);
void screen_anvil_sweep(struct screen_anvil *a, int64_t now);

/* screen_conn.c */
void screen_conn_accept(struct screen *sc, int lfd);
void screen_conn_expire(struct screen *sc);
void screen_conn_end(struct screen *sc, struct screen_conn *c, const char *reply, const char *why);
void screen_conn_free(struct screen *sc, struct screen_conn *c);
void screen_list_put(struct screen *sc, struct screen_conn *c, enum screen_where where);
void screen_list_take(struct screen *sc, struct screen_conn *c);
void screen_timer_arm(struct screen *sc);

/* screen_pool.c */
void screen_pool_dispatch(struct screen *sc, struct screen_conn *c);
void screen_pool_expire(struct screen *sc, int64_t now);
void screen_pool_start(struct screen *sc);
void screen_pool_tick(struct screen *sc);
void screen_pool_stop(struct screen *sc);
int screen_pool_busy(const struct screen *sc);

#endif
