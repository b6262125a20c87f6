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

struct service {
	char *name;		/* master.cf service */
	char *stage;		/* master.cf command = stage program moat-<stage> */
	char **overrides;	/* -o name=value */
	int maxproc;
	int *listen_fds;
	int nlisten;
	int nproc;		/* live processes of the current generation */
	int nidle;		/* of those: ready and not busy */
	int started_once;
	int fails;		/* quick deaths in a row */
	int gave_up;
	int64_t next_spawn;	/* monotonic ms before which we do not spawn */
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
	int busy;
	int retiring;		/* told to stop; no longer counted */
	int npeers;
	int64_t started;
	uint32_t seccomp_nr, seccomp_arch;
	int seccomp_seen;
	int killed;		/* the broker killed it (treated as compromised) */
	struct child *next;
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
	unsigned generation;
	struct event_loop *loop;
	int sigfd;
	int ctlfd;
	int logfd;
	int lockfd;
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
struct service *broker_service_find(struct broker *b, const char *stage);

/* spawn.c */
struct child *broker_spawn(struct broker *b, struct service *svc);

/* children.c */
void broker_child_readable(int fd, unsigned events, void *ctx);
void broker_reap(struct broker *b);
void broker_ensure(struct broker *b);
void broker_child_retire(struct broker *b, struct child *c);
void broker_child_kill(struct broker *b, struct child *c, int sig, const char *why);
struct child *broker_child_by_pid(struct broker *b, pid_t pid);
int broker_live_children(const struct broker *b);

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
