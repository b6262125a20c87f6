/*
 * broker.h - moatd's state: services from master.cf, the stage processes it
 * runs for them, and the few fds it owns (listeners, log output, control
 * socket, signals).
 */
#ifndef MOAT_BROKER_BROKER_H
#define MOAT_BROKER_BROKER_H

#include <stdint.h>
#include <sys/types.h>

#include "chroot-setup/setup.h"
#include "conf/conf.h"
#include "ipc/ipc.h"
#include "lib/event.h"
#include "lib/msg.h"
#include "lib/ratelimit.h"
#include "sandbox/stagedef.h"
#include "stagecf/tables.h"
#include "stagecf/tlskeys.h"

struct service {
	char *name;		/* master.cf service */
	char *stage;		/* master.cf command = stage program moat-<stage> */
	const struct stagedef *def;	/* what that stage is (sandbox/stages.def) */
	char **overrides;	/* -o name=value */
	int maxproc;		/* never unlimited: maxproc 0 is default_process_limit */
	int *listen_fds;
	int nlisten;
	int nproc;		/* live processes of the current generation */
	int nidle;		/* of those: ready and not busy */
	int started_once;
	int fails;		/* quick deaths in a row */
	int gave_up;
	int64_t next_spawn;	/* monotonic ms before which we do not spawn */
	struct ratelimit lines;	/* log lines about spawning it */
	int refs;		/* struct child pointing here */
	int dead;		/* dropped by a reload; freed with its last child */
	struct service *next;
};

struct child {
	pid_t pid;
	struct service *svc;
	unsigned generation;
	struct ipc_chan ch;
	struct ipc_msg m;
	int ready;
	int busy;		/* its own yes/no hint (a session); only listeners use it */
	int retiring;		/* told to stop; no longer counted */
	int64_t started;
	uint32_t seccomp_nr, seccomp_arch;
	int seccomp_seen;
	int killed;		/* the broker killed it for what it did itself */
	int reported;		/* killed on a peer's report: no failure of its service */
	struct ratelimit lines;		/* log lines written on its behalf */
	struct ratelimit requests;	/* peer channel requests */
	struct ratelimit reports;	/* violation reports believed */
	struct child *next;
};

/*
 * One channel the broker granted: client asked, server serves. ino is the
 * server end's socket: the broker asks the kernel whether it is still open
 * (lib/unixdiag.h) instead of believing what either process says. A closed
 * grant is kept (open 0) while both processes live: it is what makes a
 * violation report by one about the other believable.
 */
struct grant {
	struct child *client;
	struct child *server;
	ino_t ino;
	int open;
	struct grant *next;
};

struct broker {
	const char *confdir;
	int foreground;
	struct conf *conf;
	struct master_cf *master;
	struct setup_ids ids;
	const char *queue_dir;
	const char *daemon_dir;
	struct service *services;
	struct child *children;
	struct grant *grants;
	unsigned generation;
	struct event_loop *loop;
	int sigfd;
	int ctlfd;
	int logfd;
	int lockfd;
	int devnull;
	int diagfd;		/* NETLINK_SOCK_DIAG: which granted channels are still open */
	struct stagecf_tables tables;	/* every table the configuration names */
	int stopping;
	int64_t stop_deadline;
};

extern struct broker broker;

/* output.c */
void broker_output_open(struct broker *b);

/* listen.c */
int broker_listen_service(struct broker *b, struct service *svc, const struct master_service *ms);

/* services.c */
struct service *broker_services_build(struct broker *b, const struct master_cf *m,
				      struct service *old);
void broker_services_free(struct service *list);
void broker_service_release(struct service *svc);

/* policyconn.c: the policy stage's MSG_BROKER_POLICY_CONNECT. */
void broker_policy_connect(struct broker *b, struct child *c,
			   const struct ipc_broker_policy_connect *r);

/* spawn.c */
struct child *broker_spawn(struct broker *b, struct service *svc);
int broker_may_spawn(const struct broker *b, const struct service *svc);

/* tables.c */
int broker_tables_open(const struct stagecf_tables *t, int *fds, int *nfds, int max, char ***args,
		       struct buf *err);
void broker_tables_close(int *fds, int nfds, char **args);

/* tablecheck.c */
int broker_tables_check(struct broker *b, const struct conf *c, const struct master_cf *m,
			struct stagecf_tables *out, struct buf *err);

/* children.c */
void broker_reap(struct broker *b);
void broker_ensure(struct broker *b);
void broker_child_retire(struct broker *b, struct child *c);
void broker_child_detach(struct broker *b, struct child *c);
void broker_child_kill(struct broker *b, struct child *c, int sig, const char *why);
struct child *broker_child_by_pid(struct broker *b, pid_t pid);
int broker_starting(const struct broker *b, const struct service *s);

/* stagemsg.c */
void broker_child_limits(struct child *c, int64_t now);
void broker_lines_flush(struct broker *b);
void broker_service_limits(struct service *s, int64_t now);
void broker_child_readable(int fd, unsigned events, void *ctx);
void broker_child_log(struct child *c, enum msg_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void broker_service_log(struct service *s, enum msg_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* grants.c */
void broker_grant_add(struct broker *b, struct child *client, struct child *server, int server_fd);
int broker_grant_served(struct broker *b, const struct child *server);
int broker_grant_held(struct broker *b, const struct child *client, const struct service *svc);
int broker_grant_between(const struct broker *b, const struct child *x, const struct child *y);
void broker_grant_forget(struct broker *b, const struct child *c);

/* peers.c */
void broker_peer_request(struct broker *b, struct child *c, const struct ipc_broker_peer_request *r);

/* control.c */
void broker_control_open(struct broker *b);
void broker_control_close(struct broker *b);
void broker_control_readable(int fd, unsigned events, void *ctx);

/* main.c */
int broker_reload(struct broker *b, struct buf *why);
void broker_shutdown(struct broker *b);

#endif
