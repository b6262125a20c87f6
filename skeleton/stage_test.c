/*
 * stage_test.c - make a confined stage try what its sandbox must stop.
 *
 * Only in the test build (make build-hooks: -DMOAT_TEST_HOOKS); the normal
 * build compiles this to an empty function and the broker passes no
 * environment at all. MOAT_TEST_ATTACK="stage:action[,stage:action...]"
 * names what to try right after confinement; the stage reports each outcome
 * to the broker as MSG_BROKER_TEST_NOTE ("attack open: failed: ...") and the
 * broker logs it. An attempt that the seccomp filter kills is reported by the
 * sandbox's SIGSYS path instead, naming the syscall.
 */
#include "skeleton/stage_test.h"

#ifndef MOAT_TEST_HOOKS
void stage_test_attack(struct stage *st)
{
	(void)st;
}
#else
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/msg.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/strnum.h"
#include "skeleton/stage.h"

static void stage_test_note(struct stage *st, const char *action, int r)
{
	struct buf text = BUF_INIT;
	struct ipc_broker_test_note n = { 0 };

	if (r < 0)
		(void)buf_printf(&text, "attack %s: failed: %s", action, strerror(errno));
	else
		(void)buf_printf(&text, "attack %s: SUCCEEDED", action);
	n.text = buf_str(&text);
	(void)ipc_chan_send(&st->broker, MSG_BROKER_TEST_NOTE, &n);
	buf_free(&text);
}

/*
 * stage_test_forbidden - send, raw and past our own send-side check, a type
 * the channel does not allow from us: MSG_BROKER_START to the broker, or
 * MSG_BROKER_STATUS to the log stage (to_peer).
 */
static int stage_test_forbidden(struct stage *st, int to_peer)
{
	struct ipc_broker_start bogus = { .stage = "smtpd", .service = "x" };
	struct ipc_broker_status status = { .busy = 1 };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds = 0;
	ssize_t r;

	if (to_peer ? ipc_encode(&pkt, fds, &nfds, MSG_BROKER_STATUS, &status) < 0
		    : ipc_encode(&pkt, fds, &nfds, MSG_BROKER_START, &bogus) < 0)
		return -1;
	r = send(to_peer ? st->log.fd : st->broker.fd, pkt.data, pkt.len, MSG_NOSIGNAL);
	buf_free(&pkt);
	return r < 0 ? -1 : 0;
}

/* stage_test_connect - TCP connect to 127.0.0.1:port (smtp, dns: Landlock's port rules). */
static int stage_test_connect(const char *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	uint64_t p;
	int fd, r;

	if (strnum_u64(port, 1, 65535, &p) < 0) {
		errno = EINVAL;
		return -1;
	}
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	(void)close(fd);
	return r;
}

/*
 * stage_test_bad_rcpt - as a compromised smtpd: a recipient holding CRLF to
 * cleanup. 0 (the attack worked) if cleanup still talks to us 5 s later,
 * -1 with ECONNRESET if it cut the channel.
 */
static int stage_test_bad_rcpt(struct stage *st)
{
	struct ipc_cleanup_open o = {
		.client_name = "x", .client_addr = "192.0.2.1", .helo = "x", .protocol = "SMTP",
		.sasl_user = "", .sender = "a@sender.test", .envid = "",
	};
	struct ipc_cleanup_rcpt r = { .addr = "u@remote.test\r\nRSET", .orcpt = "" };
	struct timeval tv = { 5, 0 };
	struct ipc_chan ch;
	struct ipc_msg m;
	pid_t pid = 0;
	int fd = stage_request_peer(st, "cleanup", &pid), rr = -1;

	if (fd < 0 || iox_set_nonblock(fd, 0) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	ipc_chan_init(&ch, fd, IPC_CHAN_CLEANUP, IPC_SIDE_A, "cleanup", pid);
	ipc_msg_init(&m);
	if (ipc_chan_send(&ch, MSG_CLEANUP_OPEN, &o) == 0 && ipc_chan_recv(&ch, &m) == IPC_RECV_MSG
	    && ipc_chan_send(&ch, MSG_CLEANUP_RCPT, &r) == 0) {
		ipc_msg_reset(&m);
		/* cleanup answers no RCPT: only a cut channel ends this wait early */
		rr = ipc_chan_recv(&ch, &m) == IPC_RECV_EOF ? -1 : 0;
		errno = ECONNRESET;
	}
	ipc_msg_free(&m);
	ipc_chan_close(&ch);
	return rr;
}

static int stage_test_one(struct stage *st, const char *action)
{
	if (strcmp(action, "cleanup-bad-rcpt") == 0)
		return stage_test_bad_rcpt(st);
	if (strncmp(action, "connect:", 8) == 0)
		return stage_test_connect(action + 8);
	if (strcmp(action, "open") == 0)
		return open("/etc/passwd", O_RDONLY);
	if (strcmp(action, "execve") == 0) {
		char *const argv[] = { "sh", "-c", "true", NULL };

		return execve("/bin/sh", argv, NULL);
	}
	if (strcmp(action, "socket") == 0)
		return socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(action, "setuid") == 0)
		return setuid(0);
	if (strcmp(action, "ptrace") == 0)
		return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	if (strcmp(action, "mount") == 0)
		return mount("none", "/", "tmpfs", 0, NULL);
	if (strcmp(action, "forbidden-msg") == 0)
		return stage_test_forbidden(st, 0);
	if (strcmp(action, "forbidden-peer-msg") == 0)
		return stage_test_forbidden(st, 1);
	errno = EINVAL;
	return -1;
}

/* stage_test_attack - run each attack aimed at this stage, in order. */
void stage_test_attack(struct stage *st)
{
	const char *spec = getenv("MOAT_TEST_ATTACK");
	char *copy, *item, *save = NULL;
	size_t nlen = strlen(st->name);

	if (spec == NULL || !(st->start_flags & STAGE_START_FIRST))
		return;
	copy = strdup(spec);
	if (copy == NULL)
		return;
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (strncmp(item, st->name, nlen) != 0 || item[nlen] != ':')
			continue;
		stage_test_note(st, item + nlen + 1, stage_test_one(st, item + nlen + 1));
	}
	free(copy);
}
#endif
