/*
 * stage_test.c - make a confined stage try what its sandbox, the broker and
 * its peers must stop: the attacks of a compromised stage.
 *
 * Only in the test build (make build-hooks: -DMOAT_TEST_HOOKS); the normal
 * build compiles this to empty functions and the broker passes no
 * environment at all. MOAT_TEST_ATTACK="stage:action[,stage:action...]"
 * names what to try right after confinement, in the first process of the
 * service only; the stage reports each outcome to the broker as
 * MSG_BROKER_TEST_NOTE ("attack open: failed: ...") and the broker logs it.
 * An attempt that the seccomp filter kills is reported by the sandbox's
 * SIGSYS path instead, naming the syscall. tests/integration/test_attacks.py
 * and test_platform.py drive them.
 */
#include "skeleton/stage_test.h"

#ifndef MOAT_TEST_HOOKS
void stage_test_attack(struct stage *st)
{
	(void)st;
}

uint32_t stage_test_busy(uint32_t busy)
{
	return busy;
}

const char *stage_test_nexthop(const char *nexthop)
{
	return nexthop;
}

uint32_t stage_test_dns_lie(const char *what, uint32_t value)
{
	(void)what;
	return value;
}
#else
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/msg.h"
#include "ipc/mailproto.h"
#include "lib/iox.h"
#include "lib/strnum.h"
#include "skeleton/stage.h"

static int stage_test_lying;

/* stage_test_busy - what stage_status reports: the truth, or the busy-lie attack's lie. */
uint32_t stage_test_busy(uint32_t busy)
{
	return stage_test_lying ? 0xffffffffU : busy;
}

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

/* stage_test_raw - send a packet of type on fd past our own send-side check, with fd pass attached. */
static int stage_test_raw(int fd, enum ipc_type type, const void *msg, int pass)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds = 0;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (ipc_encode(&pkt, fds, &nfds, type, msg) < 0)
		return -1;
	iov.iov_base = pkt.data;
	iov.iov_len = pkt.len;
	if (pass >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass, sizeof(int));
	}
	r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	buf_free(&pkt);
	return r < 0 ? -1 : 0;
}

/*
 * stage_test_forbidden - a type the channel does not allow from us:
 * MSG_BROKER_START to the broker, or MSG_BROKER_STATUS to the log stage.
 */
static int stage_test_forbidden(struct stage *st, int to_peer)
{
	struct ipc_broker_start bogus = { .stage = "smtpd", .service = "x" };
	struct ipc_broker_status status = { .busy = 1 };

	if (to_peer)
		return stage_test_raw(st->log.fd, MSG_BROKER_STATUS, &status, -1);
	return stage_test_raw(st->broker.fd, MSG_BROKER_START, &bogus, -1);
}

/* send-fd: an fd on the broker channel, which carries none from a stage. */
static int attack_send_fd(struct stage *st)
{
	struct ipc_broker_ready ready = { .pid = (uint32_t)getpid() };

	return stage_test_raw(st->broker.fd, MSG_BROKER_READY, &ready, 0);
}

/*
 * linger-fd (screen): a client connection that cannot drain (the test client
 * never reads) with SO_LINGER 3600 s, handed to the broker as the only
 * reference left: its close() would wait for an hour.
 */
static int attack_linger_fd(struct stage *st)
{
	struct linger lg = { 1, 3600 };
	struct ipc_broker_ready ready = { .pid = (uint32_t)getpid() };
	static char junk[65536];
	int fd = accept4(STAGE_FD_EXTRA, NULL, NULL, SOCK_CLOEXEC), on = 1, r;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0
	    || ioctl(fd, FIONBIO, &on) < 0)
		return -1;
	while (write(fd, junk, sizeof(junk)) > 0)
		;
	/* queued behind a burst, the broker reads it only after our close below */
	for (int i = 0; i < 500; i++)
		stage_status(st, 1, 0);
	r = stage_test_raw(st->broker.fd, MSG_BROKER_READY, &ready, fd);
	(void)close(fd);
	return r;
}

/* stage_test_report - MSG_BROKER_VIOLATION about pid. */
static int stage_test_report(struct stage *st, pid_t pid)
{
	struct ipc_broker_violation v = { .peer_pid = (uint32_t)pid, .detail = "attack" };

	return ipc_chan_send(&st->broker, MSG_BROKER_VIOLATION, &v);
}

/* forge-violation: report every pid near ours, again and again for 4 s. */
static int attack_forge_violation(struct stage *st)
{
	pid_t me = getpid();
	time_t end = time(NULL) + 4;

	while (time(NULL) < end)
		for (pid_t p = me - 300; p < me + 300; p++)
			if (p > 1 && p != me && stage_test_report(st, p) < 0)
				return -1;
	return 0;
}

/*
 * report-flood: get a cleanup channel, report its process, 50 times. The
 * broker denies a channel while the killed cleanups' grants are not yet
 * released: such a request is tried again (for at most 10 s in all), so
 * that the 50 reports are made however fast the broker reaps.
 */
static int attack_report_flood(struct stage *st)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	time_t end = time(NULL) + 10;

	for (int i = 0; i < 50 && time(NULL) < end; i++) {
		pid_t pid = 0;
		int fd = stage_request_peer(st, "cleanup", &pid);

		if (fd >= 0)
			(void)close(fd);
		if (fd < 0 || pid <= 0) {
			(void)nanosleep(&pause, NULL);
			i--;
			continue;
		}
		if (stage_test_report(st, pid) < 0)
			return -1;
	}
	return 0;
}

/* leave-flood: 5,000 MSG_BROKER_LEAVE, the STOP answers left unread for 3 s. */
static int attack_leave_flood(struct stage *st)
{
	struct ipc_broker_leave l = { 0 };
	struct timespec ts = { 3, 0 };

	for (int i = 0; i < 5000; i++)
		if (ipc_chan_send(&st->broker, MSG_BROKER_LEAVE, &l) < 0)
			return -1;
	(void)nanosleep(&ts, NULL);
	return 0;
}

/* peer-flood: 200 requests for a cleanup channel, answers left unread for 3 s. */
static int attack_peer_flood(struct stage *st)
{
	struct timespec ts = { 3, 0 };

	for (uint32_t i = 0; i < 200; i++) {
		struct ipc_broker_peer_request r = { 1000 + i, "cleanup", 0 };

		if (ipc_chan_send(&st->broker, MSG_BROKER_PEER_REQUEST, &r) < 0)
			return -1;
	}
	(void)nanosleep(&ts, NULL);
	return 0;
}

/* busy-lie: report busy = 0xffffffff now and in every later status. */
static int attack_busy_lie(struct stage *st)
{
	stage_test_lying = 1;
	stage_status(st, 1, 0);
	return 0;
}

/* note-flood, seccomp-flood: 100000 lines for the broker to log. */
static int attack_flood(struct stage *st, int seccomp)
{
	struct ipc_broker_test_note n = { .text = "flood" };
	struct ipc_broker_seccomp s = { 59, 0xc000003e };

	for (int i = 0; i < 100000; i++)
		if (ipc_chan_send(&st->broker, seccomp ? MSG_BROKER_SECCOMP : MSG_BROKER_TEST_NOTE,
				  seccomp ? (const void *)&s : (const void *)&n) < 0)
			return -1;
	return 0;
}

/* multicast (smtp): join a multicast group on a UDP socket. */
static int attack_multicast(void)
{
	struct ip_mreq m = { { htonl(0xe00000fbU) }, { htonl(INADDR_ANY) } };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
}

/* stderr: a forged, unescaped line on our stderr. */
static int attack_stderr(void)
{
	static const char line[] = "moat/moatd[1]: warning: FORGED-BY-A-STAGE\n";

	return write(2, line, sizeof(line) - 1) < 0 ? -1 : 0;
}

/* clear-append (log): drop O_APPEND from the log output and write at offset 0. */
static int attack_clear_append(void)
{
	static const char line[] = "FORGED-AT-OFFSET-0\n";

	if (fcntl(STAGE_FD_EXTRA, F_SETFL, 0) < 0)
		return -1;
	return pwrite(STAGE_FD_EXTRA, line, sizeof(line) - 1, 0) < 0 ? -1 : 0;
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
	char *const argv[] = { "sh", "-c", "true", NULL };

	if (strcmp(action, "cleanup-bad-rcpt") == 0)
		return stage_test_bad_rcpt(st);
	if (strncmp(action, "lookup-", 7) == 0)
		return stage_test_lookup(st, action);
	if (strncmp(action, "tlskey-", 7) == 0)
		return stage_test_tlskey(st, action);
	if (strncmp(action, "connect:", 8) == 0)
		return stage_test_connect(action + 8);
	if (strcmp(action, "open") == 0)
		return open("/etc/passwd", O_RDONLY);
	if (strcmp(action, "execve") == 0)
		return execve("/bin/sh", argv, NULL);
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
	if (strcmp(action, "send-fd") == 0)
		return attack_send_fd(st);
	if (strcmp(action, "linger-fd") == 0)
		return attack_linger_fd(st);
	if (strcmp(action, "forge-violation") == 0)
		return attack_forge_violation(st);
	if (strcmp(action, "report-flood") == 0)
		return attack_report_flood(st);
	if (strcmp(action, "leave-flood") == 0)
		return attack_leave_flood(st);
	if (strcmp(action, "peer-flood") == 0)
		return attack_peer_flood(st);
	if (strcmp(action, "busy-lie") == 0)
		return attack_busy_lie(st);
	if (strcmp(action, "shutdown-listener") == 0)
		return shutdown(STAGE_FD_EXTRA, SHUT_RDWR);
	if (strcmp(action, "note-flood") == 0 || strcmp(action, "seccomp-flood") == 0)
		return attack_flood(st, action[0] == 's');
	if (strcmp(action, "multicast") == 0)
		return attack_multicast();
	if (strcmp(action, "stderr") == 0)
		return attack_stderr();
	if (strcmp(action, "clear-append") == 0)
		return attack_clear_append();
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
		if (strncmp(item, st->name, nlen) != 0 || item[nlen] != ':'
		    || strncmp(item + nlen + 1, "nexthop=", 8) == 0
		    || strncmp(item + nlen + 1, "lie=", 4) == 0)
			continue;
		stage_test_note(st, item + nlen + 1, stage_test_one(st, item + nlen + 1));
	}
	free(copy);
}

/* stage_test_nexthop - qmgr's "qmgr:nexthop=X" lie: every job names next hop X. */
const char *stage_test_nexthop(const char *nexthop)
{
	static char lie[256];
	const char *spec = getenv("MOAT_TEST_ATTACK"), *p;
	size_t n;

	if (spec == NULL || (p = strstr(spec, "qmgr:nexthop=")) == NULL)
		return nexthop;
	p += 13;
	n = strcspn(p, ",");
	if (n >= sizeof(lie))
		return nexthop;
	memcpy(lie, p, n);
	lie[n] = 0;
	return lie;
}

/* stage_test_dns_lie - the dns stage's "dns:lie=what": one field of its
 * answers out of range (rr-type, mx-pref, tlsa-usage, secure, status). */
uint32_t stage_test_dns_lie(const char *what, uint32_t value)
{
	const char *spec = getenv("MOAT_TEST_ATTACK"), *p;
	size_t n = strlen(what);

	if (spec == NULL || (p = strstr(spec, "dns:lie=")) == NULL || strncmp(p + 8, what, n) != 0
	    || (p[8 + n] != 0 && p[8 + n] != ','))
		return value;
	return value + 0x10000;	/* past every field's wire size */
}
#endif
