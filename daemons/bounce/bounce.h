/*
 * bounce.h - shared state of the bounce stage (bounce.c, bounce_dsn.c).
 */
#ifndef MOAT_BOUNCE_H
#define MOAT_BOUNCE_H

#include "ipc/ipc.h"
#include "lib/buf.h"
#include "skeleton/stage.h"

struct bounce_cfg {
	const char *myhostname;
	const char *myorigin;
	size_t size_limit;		/* bounce_size_limit */
	int notify_2bounce;		/* notify_classes has 2bounce */
	int notify_bounce;		/* ... bounce: postmaster copies of failure notices */
	int notify_delay;		/* ... delay: postmaster copies of delay warnings */
	const char *twobounce_rcpt;	/* 2bounce_notice_recipient */
	const char *bounce_rcpt;	/* bounce_notice_recipient */
	const char *delay_rcpt;		/* delay_notice_recipient */
	int timeout_ms;			/* waiting for cleanup */
};

struct bounce_srv {
	struct stage *st;
	struct bounce_cfg cfg;
	struct ipc_chan cleanup;	/* fd -1 until asked for */
};

/* bounce_dsn_send - make and submit the notice for one request; 0 and
 * dsn_qid (maybe empty: nothing to send), or -1 and why (retry later). */
int bounce_dsn_send(struct bounce_srv *bs, const struct ipc_bounce_request *req,
		    struct buf *dsn_qid, struct buf *why);

#endif
