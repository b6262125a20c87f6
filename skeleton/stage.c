/*
 * stage.c - the shared start of every stage (see stage.h).
 *
 * Called by: the main() of every daemons/<stage>/ program.
 *
 * SECURITY: this file runs as root until sandbox_enter returns. Before that
 * point it reads only trusted input: argv and fds from the broker, main.cf
 * from the root-owned configuration directory, and the broker's typed start
 * message. It must never read a byte from the network, a queue file or a peer
 * stage before confinement, and it must never reorder the steps below.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/strnum.h"
#include "lib/xmem.h"
#include "sandbox/sandbox.h"
#include "skeleton/stage.h"
#include "skeleton/stage_log.h"
#include "skeleton/stage_test.h"

struct stage_args {
	const char *confdir;
	const char *service;
	int nextra;
	int verbose;
	char **overrides;
	int noverrides;
	char **args;
	int nargs;
};

static void stage_usage(const char *name)
{
	msg_fatal("usage: moat-%s -c config_dir -s service [-n nfds] [-v] [-o name=value]... [-a arg]... "
		  "(stages are started by moatd, not by hand)", name);
}

static void stage_parse_args(int argc, char **argv, const char *name, struct stage_args *a)
{
	int c;

	a->overrides = xcalloc((size_t)argc, sizeof(char *));
	a->args = xcalloc((size_t)argc, sizeof(char *));
	while ((c = getopt(argc, argv, "a:c:s:n:o:v")) != -1) {
		switch (c) {
		case 'c':
			a->confdir = optarg;
			break;
		case 's':
			a->service = optarg;
			break;
		case 'n':
			if (strnum_int(optarg, 0, 64, &a->nextra) < 0)
				stage_usage(name);
			break;
		case 'o':
			a->overrides[a->noverrides++] = optarg;
			break;
		case 'a':
			a->args[a->nargs++] = optarg;
			break;
		case 'v':
			a->verbose++;
			break;
		default:
			stage_usage(name);
		}
	}
	if (a->confdir == NULL || a->service == NULL || optind != argc)
		stage_usage(name);
}

/* stage_load_conf - main.cf, then the service's -o overrides from master.cf
 * (conf_apply_service: the same steps moatd checked them with). */
static struct conf *stage_load_conf(const struct stage_args *a, const char *name)
{
	struct buf err = BUF_INIT;
	struct conf *c = conf_load(a->confdir, &err);

	if (c == NULL || conf_apply_service(c, a->service, name, a->overrides, "master.cf", &err) < 0)
		msg_fatal("%s", buf_str(&err));
	buf_free(&err);
	return c;
}

/* stage_read_start - hello, then the broker's MSG_BROKER_START, for us. */
static void stage_read_start(struct stage *st)
{
	struct ipc_msg m;
	int r;

	ipc_msg_init(&m);
	if (ipc_chan_hello(&st->broker) < 0)
		msg_fatal("broker channel: %s", buf_str(&st->broker.why));
	r = ipc_chan_recv(&st->broker, &m);
	if (r != IPC_RECV_MSG || m.type != MSG_BROKER_START)
		msg_fatal("broker channel: no start message: %s", buf_str(&st->broker.why));
	if (strcmp(m.u.broker_start.stage, st->name) != 0)
		msg_fatal("broker started stage %s as %s", m.u.broker_start.stage, st->name);
	st->instance = m.u.broker_start.instance;
	st->generation = m.u.broker_start.generation;
	st->start_flags = m.u.broker_start.flags;
	ipc_msg_free(&m);
}

/* stage_user - the uid/gid the policy names, resolved while /etc is visible. */
static void stage_user(const struct stage *st, const struct sandbox_policy *p,
		       uid_t *uid, gid_t *gid)
{
	static const char *const params[] = {
		[SANDBOX_USER_QUEUE] = CONF_NAME("mail_owner"),
		[SANDBOX_USER_NETWORK] = CONF_NAME("network_user"),
		[SANDBOX_USER_HELPER] = CONF_NAME("helper_user"),
		[SANDBOX_USER_KEY] = CONF_NAME("tlskey_user"),
	};
	const char *user = conf_str(st->conf, params[p->user]);
	struct passwd *pw = getpwnam(user);

	if (pw == NULL)
		msg_fatal("%s = %s: no such user (moatd creates it at start)", params[p->user], user);
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		msg_fatal("%s = %s: must not be root", params[p->user], user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

/* stage_confine - the one place a stage gives up its privileges. */
static void stage_confine(struct stage *st)
{
	const struct sandbox_policy *p = sandbox_policy_lookup(st->name);
	struct ipc_broker_seccomp rep = { 0, 0 };
	struct sandbox_params sp = { 0 };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds = 0;

	if (p == NULL)
		msg_panic("no sandbox policy for stage %s", st->name);
	if (ipc_encode(&pkt, fds, &nfds, MSG_BROKER_SECCOMP, &rep) < 0)
		msg_panic("cannot encode the seccomp report template");
	stage_user(st, p, &sp.uid, &sp.gid);
	sp.queue_dir = conf_str(st->conf, "queue_directory");
	sp.nfds_keep = STAGE_FD_EXTRA + st->nextra;
	sp.report_fd = STAGE_FD_BROKER;
	sp.report_pkt = pkt.data;
	sp.report_len = pkt.len;
	sp.report_nr_off = 2;		/* u16 type, then u32 syscall_nr ... */
	sp.report_arch_off = 6;		/* ... then u32 arch (ipc.h wire format) */
	sp.connect_ports = st->connect_ports;
	sp.nconnect_ports = st->nconnect_ports;
	sp.connect_any_port = st->connect_any_port;
	sandbox_enter(p, &sp);
	buf_free(&pkt);
}

int stage_main(int argc, char **argv, const char *name, const struct stage_ops *ops)
{
	static char prog[64];
	struct stage_args a = { 0 };
	struct stage st = { 0 };
	struct ipc_broker_ready ready = { 0 };

	snprintf(prog, sizeof(prog), "moat/%s", name);
	msg_init(prog);
	stage_parse_args(argc, argv, name, &a);
	msg_verbose = a.verbose;
	st.name = name;
	st.service = a.service;
	st.ops = ops;
	st.nextra = a.nextra;
	st.args = a.args;
	st.nargs = a.nargs;
	st.conf = stage_load_conf(&a, name);
	ipc_chan_init(&st.broker, STAGE_FD_BROKER, IPC_CHAN_BROKER, IPC_SIDE_A, "broker", getppid());
	if (!ops->own_log)
		stage_log_open(&st);
	stage_read_start(&st);
	if (ops->pre_jail)
		ops->pre_jail(&st);
	stage_confine(&st);
	ready.pid = (uint32_t)getpid();
	if (ipc_chan_send(&st.broker, MSG_BROKER_READY, &ready) < 0)
		msg_fatal("broker channel: %s", buf_str(&st.broker.why));
	stage_test_attack(&st);
	ops->run(&st);
	xfree(a.overrides);
	xfree(a.args);
	return 0;
}
