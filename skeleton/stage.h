/*
 * stage.h - the one skeleton every stage program starts through.
 *
 * stage_main: parse the broker's argv, load main.cf plus -o overrides, open
 * the broker channel (fd 3) and the log channel (fd 4), read the typed start
 * message, run the stage's pre-jail hook (as root: nothing that reads
 * untrusted input), resolve the stage user, sandbox_enter, tell the broker
 * READY, then run the stage loop. The order of privilege drop is written here
 * once and nowhere else.
 *
 * Fds at exec: 0, 1 and 2 /dev/null (never the broker's terminal or log
 * file), 3 broker channel, 4 log channel, 5.. stage-specific (listeners for
 * screen, the log output for the log stage); argv -n says how many
 * stage-specific fds follow, and each -a gives one stage-specific argument
 * (the TABLES stage: one per table, saying which of those fds are its files).
 */
#ifndef MOAT_SKELETON_STAGE_H
#define MOAT_SKELETON_STAGE_H

#include <stdint.h>
#include <sys/types.h>

#include "conf/conf.h"
#include "ipc/ipc.h"

#define STAGE_FD_BROKER	3
#define STAGE_FD_LOG	4
#define STAGE_FD_EXTRA	5

struct stage;

struct stage_ops {
	/* As root, before confinement: open what the stage needs (optional). */
	void (*pre_jail)(struct stage *st);
	/* The broker handed us a new channel from a peer stage (optional). */
	void (*peer_accept)(struct stage *st, const char *peer_stage, pid_t peer_pid, int fd);
	/* The stage loop; returning ends the process with status 0. */
	void (*run)(struct stage *st);
	/* 1: the stage writes its own log lines (the log stage itself). */
	int own_log;
};

#define STAGE_START_FIRST	0x1	/* first process of this service since moatd started */
#define STAGE_START_CHECK	0x2	/* a one-shot check run: check what was handed over, exit 0 or 1 */

struct stage {
	const char *name;	/* stage: "smtpd" */
	const char *service;	/* master.cf service: "127.0.0.1:2525" */
	struct conf *conf;
	const struct stage_ops *ops;
	struct ipc_chan broker;
	struct ipc_chan log;
	uint32_t instance;
	uint32_t generation;
	uint32_t start_flags;
	int nextra;		/* stage-specific fds at STAGE_FD_EXTRA.. */
	char **args;		/* stage-specific arguments from the broker (-a) */
	int nargs;
	int stopping;		/* broker asked for a graceful stop */
	unsigned naccepted;	/* peer channels accepted so far */
	uint32_t next_request;
	void *app;		/* the stage's own state */
	/* set by pre_jail of a stage that connects out: its TCP ports (Landlock) */
	const uint16_t *connect_ports;
	size_t nconnect_ports;
	int connect_any_port;	/* ports unknown at start (sandbox.h) */
};

int stage_main(int argc, char **argv, const char *name, const struct stage_ops *ops);

/* stage_broker_dispatch - handle one message from the broker (wait 0: only
 * if one is there now); -1 if the broker is gone. */
int stage_broker_dispatch(struct stage *st, int wait);
/* stage_request_peer - ask the broker for a channel to a peer stage; fd or -1. */
int stage_request_peer(struct stage *st, const char *peer_stage, pid_t *peer_pid);
/*
 * stage_leave - before exiting on our own: tell the broker, and act on what
 * it sent before it heard (a peer channel granted meanwhile is accepted
 * through peer_accept and must be served, not lost with us) until its STOP.
 * Sets st->stopping. Returns the number of channels accepted meanwhile.
 */
int stage_leave(struct stage *st, uint32_t uses);
/* stage_policy_connect - the policy stage: a socket to a check_policy_service
 * endpoint, connected (or connecting) by the broker; fd, or -1 and why. */
int stage_policy_connect(struct stage *st, const char *endpoint, struct buf *why);
/* stage_status - tell the broker whether we are busy (for process management). */
void stage_status(struct stage *st, int busy, uint32_t uses);
/* stage_report_violation - a peer broke its channel's protocol: log it and
 * tell the broker, which kills the peer as compromised. */
void stage_report_violation(struct stage *st, const struct ipc_chan *ch, const char *why);
/* stage_broker_readable - event_fn for the broker fd in event-loop stages. */
void stage_broker_readable(int fd, unsigned events, void *ctx);
/* stage_idle_loop - serve only the broker channel until told to stop. */
void stage_idle_loop(struct stage *st);

#endif
