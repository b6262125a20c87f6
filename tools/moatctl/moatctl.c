/*
 * moatctl - talk to a running moatd: status, stop, reload, lookup.
 *
 *   moatctl [-c config_dir] status   services and their stage processes
 *   moatctl [-c config_dir] reload   new configuration for new processes
 *   moatctl [-c config_dir] stop     stop moatd and every stage; waits until done
 *   moatctl [-c config_dir] lookup tables key [order [delim]]
 *                                    ask the running lookup stage, as a stage
 *                                    would: tables is one spec or several
 *                                    separated by newlines; order is key,
 *                                    access, rewrite, local (rewrite of a
 *                                    local address), domain, parent (domain,
 *                                    parents without the dot), netaddr or
 *                                    transport. The value and exit 0 (with
 *                                    the matched key on stderr), exit 1 if
 *                                    not found, 2 on error
 *
 * It reads main.cf only to find queue_directory, then speaks the typed
 * control protocol on <queue>/pid/control.sock (root only). It must never
 * signal a process it found only by a pid file it did not check.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ipc/ipc.h"
#include "lib/buf.h"
#include "lib/msg.h"
#include "skeleton/stage_lookup.h"

static void usage(void)
{
	fprintf(stderr, "usage: moatctl [-c config_dir] status|stop|reload\n"
		"       moatctl [-c config_dir] lookup tables key [order [delim]]\n");
	exit(2);
}

static int moatctl_connect(const char *queue_dir)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/pid/control.sock", queue_dir);

	if (n < 0 || (size_t)n >= sizeof(sun.sun_path))
		msg_fatal("queue_directory too long");
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		msg_fatal("socket: %m");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		msg_fatal("moatd is not running (%s: %m)", sun.sun_path);
	return fd;
}

/* moatctl_pid - the running moatd's pid from its pid file, or 0. */
static pid_t moatctl_pid(const char *queue_dir)
{
	struct buf path = BUF_INIT;
	char text[32] = "";
	long pid = 0;
	int fd;

	(void)buf_printf(&path, "%s/pid/moatd.pid", queue_dir);
	if ((fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC)) >= 0) {
		ssize_t n = read(fd, text, sizeof(text) - 1);

		if (n > 0)
			text[n] = 0;
		close(fd);
		pid = strtol(text, NULL, 10);
	}
	buf_free(&path);
	return (pid_t)pid;
}

/* moatctl_exited - pid is gone, or a zombie its parent has not reaped yet. */
static int moatctl_exited(pid_t pid)
{
	char path[64], text[512];
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 1;
	text[n] = 0;
	return strstr(text, ") Z ") != NULL;
}

/* moatctl_wait_gone - after "stop": wait up to 30 s for moatd to exit. */
static int moatctl_wait_gone(pid_t pid)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	for (int i = 0; i < 600; i++) {
		if (moatctl_exited(pid))
			return 0;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "moatctl: moatd pid %ld still running after 30 s\n", (long)pid);
	return 1;
}

/* moatctl_order - the lookup order a word names (LOOKUP_ORDER_*, flags). */
static void moatctl_order(const char *word, struct lookup_key *k)
{
	static const struct {
		const char *word;
		uint32_t order, flags;
	} orders[] = {
		{ "key", LOOKUP_ORDER_KEY, 0 }, { "access", LOOKUP_ORDER_ACCESS, 0 },
		{ "rewrite", LOOKUP_ORDER_REWRITE, 0 }, { "local", LOOKUP_ORDER_REWRITE, LOOKUP_F_LOCAL },
		{ "domain", LOOKUP_ORDER_DOMAIN, 0 }, { "parent", LOOKUP_ORDER_DOMAIN, LOOKUP_F_PARENT },
		{ "netaddr", LOOKUP_ORDER_NETADDR, 0 }, { "transport", LOOKUP_ORDER_TRANSPORT, 0 },
	};

	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		if (strcmp(word, orders[i].word) == 0) {
			k->order = orders[i].order;
			k->flags = orders[i].flags;
			return;
		}
	}
	usage();
}

/*
 * moatctl_lookup - the broker granted a channel to the lookup stage: ask
 * about table and key as a stage would. Postfix's postmap -q exit codes.
 */
static int moatctl_lookup(const struct conf *c, const struct ipc_control_grant *g, char **words,
			  int nwords)
{
	struct lookup_key k = { .tables = words[0], .key = words[1], .delim = "" };
	struct lookup_answer a;
	struct lookup_client lc;
	int r;

	(void)c;
	if (nwords > 2)
		moatctl_order(words[2], &k);
	if (nwords > 3)
		k.delim = words[3];
	lookup_client_init(&lc, NULL);
	lookup_client_adopt(&lc, g->fd, (pid_t)g->pid);
	lookup_answer_init(&a);
	r = lookup_query(&lc, &k, &a);
	lookup_client_free(&lc);
	if (r == LOOKUP_FOUND && a.matched.len > 0)
		fprintf(stderr, "matched %s\n", buf_str(&a.matched));
	if (r == LOOKUP_FOUND)
		printf("%s\n", buf_str(&a.value));
	else if (r == LOOKUP_NOTABLE)
		fprintf(stderr, "moatctl: the lookup stage holds no table %s (the configuration "
			"does not name it)\n", k.tables);
	else if (r == LOOKUP_FAIL)
		fprintf(stderr, "moatctl: table %s: lookup failed (see the log)\n", k.tables);
	lookup_answer_free(&a);
	return r == LOOKUP_FOUND ? 0 : r == LOOKUP_NOTFOUND ? 1 : 2;
}

int main(int argc, char **argv)
{
	const char *confdir = "/etc/moat";
	struct ipc_control_request req = { 0 };
	struct buf err = BUF_INIT;
	struct ipc_chan ch;
	struct ipc_msg m;
	struct conf *c;
	pid_t pid;
	int opt, status;

	msg_init("moatctl");
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt != 'c')
			usage();
		confdir = optarg;
	}
	if (optind >= argc)
		usage();
	req.command = argv[optind];
	if (strcmp(req.command, "lookup") == 0 ? argc - optind < 3 || argc - optind > 5
	    : optind != argc - 1)
		usage();
	if ((c = conf_load(confdir, &err)) == NULL)
		msg_fatal("%s", buf_str(&err));
	pid = moatctl_pid(conf_str(c, "queue_directory"));
	ipc_chan_init(&ch, moatctl_connect(conf_str(c, "queue_directory")), IPC_CHAN_CONTROL,
		      IPC_SIDE_A, "moatd", pid);
	ipc_msg_init(&m);
	if (ipc_chan_send(&ch, MSG_CONTROL_REQUEST, &req) < 0 || ipc_chan_recv(&ch, &m) != IPC_RECV_MSG)
		msg_fatal("control channel: %s", buf_str(&ch.why));
	if (m.type == MSG_CONTROL_GRANT) {
		if (ipc_msg_take_fd(&m, m.u.control_grant.fd) < 0)
			msg_fatal("control channel: a grant without its channel");
		status = moatctl_lookup(c, &m.u.control_grant, argv + optind + 1, argc - optind - 1);
	} else {
		status = (int)m.u.control_reply.status;
		fputs(m.u.control_reply.text, status ? stderr : stdout);
	}
	ipc_msg_free(&m);
	ipc_chan_close(&ch);
	if (status == 0 && strcmp(req.command, "stop") == 0)
		status = moatctl_wait_gone(pid);
	conf_free(c);
	buf_free(&err);
	return status;
}
