/*
 * stage_peer.h - the one way a stage serves the peer channels the broker
 * hands it (log, qmgr, bounce, dns, cleanup): accept, read, drop.
 *
 * stage_peer_accept takes the fd of a MSG_BROKER_PEER_ACCEPT, makes it a
 * non-blocking channel of the stage's kind (we are side B), sends our hello
 * and watches it in the stage's event loop. Every message the peer may send
 * is given to ops->message; when the channel ends (EOF, error, a violation,
 * or the stage ends it) the skeleton reports the peer to the broker if it
 * broke the protocol, closes the channel and calls ops->closed exactly
 * once, from which the stage frees its own per-peer state. A peer may be ended from inside
 * ops->message or from anywhere else: inside a read the end waits until
 * the read is over, so no callback ever sees a freed peer.
 */
#ifndef MOAT_SKELETON_STAGE_PEER_H
#define MOAT_SKELETON_STAGE_PEER_H

#include <sys/types.h>

#include "ipc/ipc.h"
#include "lib/event.h"
#include "skeleton/stage.h"

struct stage_peer;

struct stage_peer_ops {
	enum ipc_chan_kind kind;	/* the channel kind this stage serves */
	/*
	 * One message from the peer: 0 to go on; IPC_RECV_VIOLATION (with
	 * p->ch.why set) to cut the peer off and report it to the broker;
	 * IPC_RECV_ERROR to cut it off quietly (our reply could not be sent).
	 */
	int (*message)(struct stage_peer *p, struct ipc_msg *m);
	/* The channel is closed: release the stage's state for this peer (optional). */
	void (*closed)(struct stage_peer *p);
};

struct stage_peer {
	struct stage *st;
	struct event_loop *loop;
	const struct stage_peer_ops *ops;
	struct ipc_chan ch;
	struct ipc_msg m;
	void *app;		/* the stage's own state for this peer */
	int in_read;		/* inside the read callback: end later */
	int ending;		/* stage_peer_end was called */
	int violation;		/* ... for a protocol violation (ch.why says which) */
};

/* stage_peer_accept - serve fd; NULL (fd closed, ops->closed called) if it cannot. */
struct stage_peer *stage_peer_accept(struct stage *st, struct event_loop *loop,
				     const struct stage_peer_ops *ops, const char *peer_stage,
				     pid_t peer_pid, int fd, void *app);
/* stage_peer_end - drop the peer; violation: report it (p->ch.why) to the broker. */
void stage_peer_end(struct stage_peer *p, int violation);

#endif
