/*
 * test_ipc_chan.c - unit tests of ipc/chan.c over real AF_UNIX
 * SOCK_SEQPACKET socketpairs: every message that some channel allows makes
 * the trip with its fds; the hello exchange, the per-side allowlists, fd
 * kind checks, oversize packets and surplus fds are violations; nothing
 * leaks an fd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>

#include "lib/iox.h"
#include "tests/unit/test_ipc_fill.h"

/* Two ends of one channel: a is side A ("smtpd"), b is side B. */
struct pair {
	struct ipc_chan a;
	struct ipc_chan b;
	struct ipc_msg m;
	int fds_before;
};

static void pair_open(struct pair *p, enum ipc_chan_kind kind)
{
	int sv[2];

	p->fds_before = test_count_fds();
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	ipc_chan_init(&p->a, sv[0], kind, IPC_SIDE_A, "server", 7);
	ipc_chan_init(&p->b, sv[1], kind, IPC_SIDE_B, "smtpd", 42);
	ipc_msg_init(&p->m);
}

/* pair_close - close both ends; no fd may have leaked meanwhile. */
static void pair_close(struct pair *p)
{
	ipc_msg_free(&p->m);
	ipc_chan_close(&p->a);
	ipc_chan_close(&p->b);
	assert_int_equal(test_count_fds(), p->fds_before);
}

/* raw_send - a packet exactly as given, bypassing every check of chan.c. */
static void raw_send(int fd, const void *pkt, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct iovec iov = { (void *)pkt, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* raw_msg - encode any message (no policy) and send it raw. */
static void raw_msg(int fd, enum ipc_type type, const void *msg)
{
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds;

	assert_int_equal(ipc_encode(&pkt, fds, &nfds, type, msg), 0);
	raw_send(fd, pkt.data, pkt.len, fds, nfds);
	buf_free(&pkt);
}

static void raw_hello(int fd, const char *proto, uint32_t version)
{
	struct ipc_hello h = { .proto = proto, .version = version };

	raw_msg(fd, MSG_HELLO, &h);
}

/* expect_violation_on - ch's next recv is a violation whose text holds want. */
static void expect_violation_on(struct ipc_chan *ch, struct ipc_msg *m, const char *want)
{
	/* Non-blocking: a violation that is not detected fails, never hangs. */
	assert_int_equal(iox_set_nonblock(ch->fd, 1), 0);
	assert_int_equal(ipc_chan_recv(ch, m), IPC_RECV_VIOLATION);
	if (strstr(buf_str(&ch->why), want) == NULL)
		fail_msg("reason '%s' lacks '%s'", buf_str(&ch->why), want);
	assert_int_equal(m->nfds, 0);
}

/* expect_violation - b's next recv is a violation whose text holds want. */
static void expect_violation(struct pair *p, const char *want)
{
	expect_violation_on(&p->b, &p->m, want);
}

/* find_channel - a channel kind and side that may send type. */
static int find_channel(enum ipc_type type, enum ipc_chan_kind *kind, enum ipc_side *side)
{
	for (int k = 0; k < IPC_CHAN_COUNT; k++) {
		for (int s = 0; s < 2; s++) {
			if (ipc_chan_allowed(k, s, type)) {
				*kind = k;
				*side = s;
				return 0;
			}
		}
	}
	return -1;
}

/* chan_roundtrip - send a filled message of e's type, receive, compare. */
static void chan_roundtrip(const struct fill_entry *e, int at_max)
{
	struct fill f = { .at_max = at_max, .tmp = fill_tmp_path };
	enum ipc_chan_kind kind = IPC_CHAN_COUNT;
	enum ipc_side side = IPC_SIDE_A;
	struct ipc_chan *tx, *rx;
	struct pair p;
	fill_any in;

	assert_int_equal(find_channel(e->type, &kind, &side), 0);
	pair_open(&p, kind);
	tx = side == IPC_SIDE_A ? &p.a : &p.b;
	rx = side == IPC_SIDE_A ? &p.b : &p.a;
	memset(&in, 0, sizeof(in));
	fill_run(&f, e, 0, &in, &p.m);
	assert_int_equal(ipc_chan_hello(rx), 0);
	if (ipc_chan_send(tx, e->type, &in) < 0)
		fail_msg("send %s: %s", ipc_type_name(e->type), buf_str(&tx->why));
	if (ipc_chan_recv(rx, &p.m) != IPC_RECV_MSG)
		fail_msg("recv %s: %s", ipc_type_name(e->type), buf_str(&rx->why));
	assert_int_equal(p.m.type, e->type);
	fill_run(&f, e, 1, &in, &p.m);
	fill_done(&f);
	pair_close(&p);
}

/* Every message some channel allows, over a socketpair, fds included. */
static void test_chan_roundtrip_all(void **state)
{
	int n = 0;

	(void)state;
	for (size_t i = 0; i < FILL_NTYPES; i++) {
		enum ipc_chan_kind k;
		enum ipc_side s;

		if (fill_table[i].type == MSG_HELLO || fill_table[i].type == MSG_IPC_SELFTEST)
			continue;
		chan_roundtrip(&fill_table[i], 0);
		chan_roundtrip(&fill_table[i], 1);
		n += find_channel(fill_table[i].type, &k, &s) == 0;
	}
	assert_int_equal(n, MSG_COUNT - 3);
}

/* One struct ipc_msg reused for many messages; a taken fd stays open. */
static void test_chan_reuse_and_take(void **state)
{
	struct ipc_broker_peer_accept acc = { .peer_stage = "cleanup", .peer_pid = 9 };
	struct pair p;
	int sv[2], fd;

	(void)state;
	pair_open(&p, IPC_CHAN_BROKER);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	acc.fd = sv[0];
	for (int i = 0; i < 50; i++)
		assert_int_equal(ipc_chan_send(&p.b, MSG_BROKER_PEER_ACCEPT, &acc), 0);
	for (int i = 0; i < 49; i++) {
		assert_int_equal(ipc_chan_recv(&p.a, &p.m), IPC_RECV_MSG);
		assert_string_equal(p.m.u.broker_peer_accept.peer_stage, "cleanup");
		fill_same_file(p.m.u.broker_peer_accept.fd, sv[0]);
		assert_true(fcntl(p.m.u.broker_peer_accept.fd, F_GETFD) & FD_CLOEXEC);
	}
	assert_int_equal(ipc_chan_recv(&p.a, &p.m), IPC_RECV_MSG);
	fd = ipc_msg_take_fd(&p.m, p.m.u.broker_peer_accept.fd);
	ipc_msg_free(&p.m);
	/* The taken fd works: write through it, read at the other end. */
	assert_int_equal(write(fd, "hi", 2), 2);
	{
		char got[2];

		assert_int_equal(read(sv[1], got, 2), 2);
		assert_memory_equal(got, "hi", 2);
	}
	close(fd);
	close(sv[0]);
	close(sv[1]);
	pair_close(&p);
}

/* Hello is exchanged implicitly; EOF; non-blocking gives AGAIN. */
static void test_chan_hello_eof_again(void **state)
{
	struct ipc_log_line l = { .level = 3, .text = "hello log" };
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	assert_int_equal(iox_set_nonblock(p.b.fd, 1), 0);
	assert_int_equal(ipc_chan_recv(&p.b, &p.m), IPC_RECV_AGAIN);
	assert_int_equal(ipc_chan_hello(&p.a), 0);
	assert_int_equal(ipc_chan_hello(&p.a), 0);	/* once only */
	assert_int_equal(ipc_chan_recv(&p.b, &p.m), IPC_RECV_AGAIN);	/* hello consumed */
	assert_int_equal(p.b.hello_seen, 1);
	assert_int_equal(ipc_chan_send(&p.a, MSG_LOG_LINE, &l), 0);
	assert_int_equal(ipc_chan_recv(&p.b, &p.m), IPC_RECV_MSG);
	assert_string_equal(p.m.u.log_line.text, "hello log");
	assert_int_equal(p.m.u.log_line.level, 3);
	assert_int_equal(close(p.a.fd), 0);
	p.a.fd = -1;
	assert_int_equal(ipc_chan_recv(&p.b, &p.m), IPC_RECV_EOF);
	pair_close(&p);
	/* Sending to a closed peer is an error return, not SIGPIPE. */
	pair_open(&p, IPC_CHAN_LOG);
	assert_int_equal(close(p.b.fd), 0);
	p.b.fd = -1;
	assert_int_equal(ipc_chan_send(&p.a, MSG_LOG_LINE, &l), -1);
	assert_int_equal(errno, EPIPE);
	assert_non_null(strstr(buf_str(&p.a.why), "send: "));
	pair_close(&p);
}

static int drain_count(struct ipc_msg *m, void *ctx)
{
	int *n = ctx;

	assert_int_equal(m->type, MSG_LOG_LINE);
	return ++*n == 4 ? 99 : 0;	/* the fourth message stops the drain */
}

/* ipc_chan_drain: every queued message to fn, then AGAIN; fn can stop it; EOF ends it. */
static void test_chan_drain(void **state)
{
	struct ipc_log_line l = { .level = 3, .text = "line" };
	struct pair p;
	int n = 0;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	assert_int_equal(iox_set_nonblock(p.b.fd, 1), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ipc_chan_send(&p.a, MSG_LOG_LINE, &l), 0);
	assert_int_equal(ipc_chan_drain(&p.b, &p.m, drain_count, &n), IPC_RECV_AGAIN);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ipc_chan_send(&p.a, MSG_LOG_LINE, &l), 0);
	assert_int_equal(ipc_chan_drain(&p.b, &p.m, drain_count, &n), 99);
	assert_int_equal(n, 4);
	assert_int_equal(close(p.a.fd), 0);
	p.a.fd = -1;
	n = 0;
	assert_int_equal(ipc_chan_drain(&p.b, &p.m, drain_count, &n), IPC_RECV_EOF);
	assert_int_equal(n, 2);	/* the two left, then the end */
	pair_close(&p);
}

/*
 * A peer that exits leaving our packets unread makes the kernel report
 * ECONNRESET first: its last packets must still be received (a cleanup's
 * last notice to qmgr, a stage's seccomp report to the broker).
 */
static void test_chan_last_words_after_reset(void **state)
{
	struct ipc_log_line l = { .level = 6, .text = "last words" };
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	assert_int_equal(iox_set_nonblock(p.b.fd, 1), 0);
	assert_int_equal(ipc_chan_hello(&p.b), 0);	/* never read by a: the reset cause */
	assert_int_equal(ipc_chan_send(&p.a, MSG_LOG_LINE, &l), 0);
	assert_int_equal(close(p.a.fd), 0);
	p.a.fd = -1;
	assert_int_equal(ipc_chan_recv(&p.b, &p.m), IPC_RECV_MSG);
	assert_string_equal(p.m.u.log_line.text, "last words");
	assert_int_equal(ipc_chan_recv(&p.b, &p.m), IPC_RECV_EOF);
	pair_close(&p);
}

/* A full non-blocking socket gives -1/EAGAIN, not a hang. */
static void test_chan_send_eagain(void **state)
{
	struct ipc_log_line l = { .level = 1, .text = "x" };
	struct pair p;
	int r = 0, i;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	assert_int_equal(iox_set_nonblock(p.a.fd, 1), 0);
	for (i = 0; i < 1000000 && (r = ipc_chan_send(&p.a, MSG_LOG_LINE, &l)) == 0; i++)
		;
	assert_int_equal(r, -1);
	assert_int_equal(errno, EAGAIN);
	assert_true(i > 0);
	pair_close(&p);
}

/* We refuse to send what our side may not send (our own bug). */
static void test_chan_send_refused(void **state)
{
	struct ipc_broker_start s = { .stage = "smtpd", .service = "smtp" };
	struct ipc_hello h = { .proto = "moat-broker", .version = 1 };
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_BROKER);
	assert_int_equal(ipc_chan_send(&p.a, MSG_BROKER_START, &s), -1);
	assert_non_null(strstr(buf_str(&p.a.why), "refusing to send MSG_BROKER_START: side stage"));
	assert_int_equal(ipc_chan_send(&p.a, MSG_HELLO, &h), -1);
	assert_int_equal(ipc_chan_send(&p.a, MSG_IPC_SELFTEST, &h), -1);
	assert_int_equal(p.a.hello_sent, 0);	/* nothing went out */
	assert_int_equal(ipc_chan_send(&p.b, MSG_BROKER_START, &s), 0);
	assert_int_equal(ipc_chan_recv(&p.a, &p.m), IPC_RECV_MSG);
	assert_string_equal(p.m.u.broker_start.service, "smtp");
	pair_close(&p);
}

/* The stage side sending MSG_BROKER_START on the broker channel. */
static void test_chan_peer_not_allowed(void **state)
{
	struct ipc_broker_start s = { .stage = "smtpd", .service = "smtp" };
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_BROKER);
	raw_hello(p.a.fd, "moat-broker", 1);
	raw_msg(p.a.fd, MSG_BROKER_START, &s);
	expect_violation(&p, "peer smtpd[42] sent MSG_BROKER_START, not allowed on moat-broker");
	pair_close(&p);
}

static void test_chan_missing_hello(void **state)
{
	struct ipc_log_line l = { .text = "x" };
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	raw_msg(p.a.fd, MSG_LOG_LINE, &l);
	expect_violation(&p, "sent MSG_LOG_LINE before MSG_HELLO on moat-log");
	pair_close(&p);
}

static void test_chan_wrong_proto(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	raw_hello(p.a.fd, "moat-broker", 1);
	expect_violation(&p, "speaks another protocol than moat-log");
	pair_close(&p);
	pair_open(&p, IPC_CHAN_LOG);
	raw_hello(p.a.fd, "moat-lo", 1);	/* a prefix is not the name */
	expect_violation(&p, "another protocol");
	pair_close(&p);
}

static void test_chan_wrong_version(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	raw_hello(p.a.fd, "moat-log", 2);
	expect_violation(&p, "speaks moat-log version 2, we speak 1");
	pair_close(&p);
}

static void test_chan_second_hello(void **state)
{
	struct ipc_log_line l = { .text = "x" };
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	raw_hello(p.a.fd, "moat-log", 1);
	raw_msg(p.a.fd, MSG_LOG_LINE, &l);
	raw_hello(p.a.fd, "moat-log", 1);
	assert_int_equal(ipc_chan_recv(&p.b, &p.m), IPC_RECV_MSG);
	expect_violation(&p, "sent a second MSG_HELLO on moat-log");
	pair_close(&p);
}

/* A pipe where a socket is declared: violation, and the fd is closed. */
static void test_chan_fd_wrong_kind(void **state)
{
	struct ipc_broker_peer_grant g = { .request_id = 1, .peer_stage = "log", .peer_pid = 5 };
	struct pair p;
	int pp[2];

	(void)state;
	pair_open(&p, IPC_CHAN_BROKER);
	assert_int_equal(pipe(pp), 0);
	g.fd = pp[0];
	raw_hello(p.b.fd, "moat-broker", 1);
	raw_msg(p.b.fd, MSG_BROKER_PEER_GRANT, &g);
	close(pp[0]);
	close(pp[1]);
	assert_int_equal(ipc_chan_recv(&p.a, &p.m), IPC_RECV_VIOLATION);
	assert_non_null(strstr(buf_str(&p.a.why),
			       "peer server[7] sent a malformed packet: MSG_BROKER_PEER_GRANT: field 'fd': not a socket"));
	pair_close(&p);
}

/* Surplus fds on an allowed message, and more fds than IPC_MAX_FDS. */
static void test_chan_fd_surplus(void **state)
{
	struct ipc_log_line l = { .text = "x" };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds, many[IPC_MAX_FDS + 2];
	struct pair p;

	(void)state;
	for (int i = 0; i < IPC_MAX_FDS + 2; i++)
		assert_true((many[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	pair_open(&p, IPC_CHAN_LOG);
	p.fds_before -= IPC_MAX_FDS + 2;
	raw_hello(p.a.fd, "moat-log", 1);
	assert_int_equal(ipc_encode(&pkt, fds, &nfds, MSG_LOG_LINE, &l), 0);
	raw_send(p.a.fd, pkt.data, pkt.len, many, 1);
	raw_send(p.a.fd, pkt.data, pkt.len, many, IPC_MAX_FDS + 2);
	raw_send(p.a.fd, "", 0, many, 1);
	for (int i = 0; i < IPC_MAX_FDS + 2; i++)
		close(many[i]);
	expect_violation(&p, "sent fds on moat-log, where its side sends none");
	expect_violation(&p, "sent more than 4 fds");
	expect_violation(&p, "sent fds without a message");
	buf_free(&pkt);
	pair_close(&p);
}

/* A side that may send fds, one fd on a message that carries none: the decoder says so. */
static void test_chan_fd_on_fdless_type(void **state)
{
	struct ipc_broker_stop st = { .graceful = 1 };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds, one = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct pair p;

	(void)state;
	assert_true(one >= 0);
	pair_open(&p, IPC_CHAN_BROKER);
	p.fds_before--;
	raw_hello(p.b.fd, "moat-broker", 1);
	assert_int_equal(ipc_encode(&pkt, fds, &nfds, MSG_BROKER_STOP, &st), 0);
	raw_send(p.b.fd, pkt.data, pkt.len, &one, 1);
	close(one);
	assert_int_equal(iox_set_nonblock(p.a.fd, 1), 0);
	assert_int_equal(ipc_chan_recv(&p.a, &p.m), IPC_RECV_VIOLATION);
	assert_non_null(strstr(buf_str(&p.a.why), "MSG_BROKER_STOP: 1 fds received, message carries 0"));
	buf_free(&pkt);
	pair_close(&p);
}

/*
 * channels.def's fds column is exactly the sides whose allowed types carry an
 * FD field: no side may receive the right to send fds it never needs.
 */
static void test_chan_fds_column_matches_types(void **state)
{
	(void)state;
	for (int k = 0; k < IPC_CHAN_COUNT; k++) {
		for (int s = 0; s < 2; s++) {
			int needs = 0;

			for (int t = 1; t < MSG_COUNT; t++)
				if (t != MSG_HELLO && ipc_chan_allowed(k, s, t) && ipc_type_fds(t) > 0)
					needs = 1;
			if (needs != ipc_chan_fds_allowed(k, s))
				fail_msg("%s side %s: fds column says %d, its types say %d",
					 ipc_chan_proto(k), ipc_chan_side_name(k, s),
					 ipc_chan_fds_allowed(k, s), needs);
		}
	}
	assert_int_equal(ipc_type_fds(MSG_DELIVER_JOB), 1);
	assert_int_equal(ipc_type_fds(MSG_IPC_SELFTEST), 4);
	assert_int_equal(ipc_type_fds(MSG_LOG_LINE), 0);
	assert_int_equal(ipc_type_fds(MSG_COUNT), 0);
	assert_false(ipc_chan_fds_allowed(IPC_CHAN_COUNT, IPC_SIDE_A));
}

/* send_one_fd - a packet of type with fd attached; -1 and errno if the kernel refuses. */
static int send_one_fd(int sock, enum ipc_type type, const void *msg, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	ssize_t r;

	assert_int_equal(ipc_encode(&pkt, fds, &nfds, type, msg), 0);
	iov.iov_base = pkt.data;
	iov.iov_len = pkt.len;
	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	buf_free(&pkt);
	return r < 0 ? -1 : 0;
}

/*
 * ipc_chan_guard: on a guarded end the kernel refuses fds the peer may not
 * send (EPERM, SO_PASSRIGHTS); the side that may send fds still can. On a
 * kernel without SO_PASSRIGHTS the guard says ENOPROTOOPT and recv refuses.
 */
static void test_chan_guard(void **state)
{
	struct ipc_log_line l = { .text = "x" };
	struct ipc_broker_stop st = { .graceful = 1 };
	struct pair p;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if (ipc_chan_guard(sv[1], IPC_CHAN_LOG, IPC_SIDE_B) < 0) {
		assert_int_equal(errno, ENOPROTOOPT);
		close(sv[0]);
		close(sv[1]);
		skip();
	}
	assert_int_equal(ipc_chan_guard(sv[0], IPC_CHAN_LOG, IPC_SIDE_A), 0);
	assert_int_equal(send_one_fd(sv[0], MSG_LOG_LINE, &l, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(send_one_fd(sv[1], MSG_LOG_LINE, &l, 0), -1);
	assert_int_equal(errno, EPERM);
	close(sv[0]);
	close(sv[1]);
	/* broker channel: the stage's end takes fds, the broker's end refuses them */
	pair_open(&p, IPC_CHAN_BROKER);
	assert_int_equal(ipc_chan_guard(p.a.fd, IPC_CHAN_BROKER, IPC_SIDE_A), 0);
	assert_int_equal(ipc_chan_guard(p.b.fd, IPC_CHAN_BROKER, IPC_SIDE_B), 0);
	assert_int_equal(send_one_fd(p.a.fd, MSG_BROKER_STOP, &st, 0), -1);
	assert_int_equal(errno, EPERM);
	raw_hello(p.b.fd, "moat-broker", 1);
	assert_int_equal(send_one_fd(p.b.fd, MSG_BROKER_STOP, &st, 0), 0);
	expect_violation_on(&p.a, &p.m, "1 fds received, message carries 0");
	pair_close(&p);
}

/* tcp_pair - a connected loopback TCP pair; *srv is the accepted end. */
static int tcp_pair(int *srv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd, rcv = 4096;

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(setsockopt(cfd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)), 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(*srv >= 0);
	close(lfd);
	return cfd;
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "closing a received lingering socket blocked\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(3);
}

/*
 * A TCP socket with SO_LINGER 3600 s and a send queue that cannot drain
 * (its peer never reads), sent as the last reference to it where the channel
 * refuses it (wrong fd kind): the receiver closes it without waiting (seen:
 * the broker blocked in close() for the linger time). An alarm turns a hang
 * into a failure.
 */
static void test_chan_lingering_fd_closed_without_waiting(void **state)
{
	struct ipc_deliver_job j = { .queue_id = "Q", .transport = "smtp", .nexthop = "x",
				     .sender = "", .envid = "" };
	struct linger lg = { 1, 3600 };
	static char junk[65536];
	struct pair p;
	int srv, cli = tcp_pair(&srv), on = 1;

	(void)state;
	assert_int_equal(setsockopt(srv, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(ioctl(srv, FIONBIO, &on), 0);
	while (write(srv, junk, sizeof(junk)) > 0)
		;
	pair_open(&p, IPC_CHAN_DELIVER);
	p.fds_before--;		/* srv goes with the violation; cli stays open until the end */
	raw_hello(p.a.fd, "moat-deliver", 1);
	j.fd = srv;
	raw_msg(p.a.fd, MSG_DELIVER_JOB, &j);	/* a socket where a read-only file belongs */
	close(srv);
	signal(SIGALRM, on_alarm);
	alarm(60);
	expect_violation(&p, "not a regular file");
	alarm(0);
	pair_close(&p);
	close(cli);
}

/* A packet past IPC_MAX_PACKET is cut by the kernel (MSG_TRUNC): violation. */
static void test_chan_oversize(void **state)
{
	char *big = calloc(1, IPC_MAX_PACKET + 100);
	struct pair p;
	int sz = 4 * IPC_MAX_PACKET;

	(void)state;
	assert_non_null(big);
	pair_open(&p, IPC_CHAN_LOG);
	assert_int_equal(setsockopt(p.a.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	raw_hello(p.a.fd, "moat-log", 1);
	big[0] = MSG_LOG_LINE;
	raw_send(p.a.fd, big, IPC_MAX_PACKET + 100, NULL, 0);
	raw_send(p.a.fd, big, IPC_MAX_PACKET + 1, NULL, 0);
	expect_violation(&p, "sent a packet longer than 131072 bytes");
	expect_violation(&p, "sent a packet longer than 131072 bytes");
	free(big);
	pair_close(&p);
}

/* Garbage after a good hello: the decoder's reason reaches ch->why. */
static void test_chan_malformed(void **state)
{
	static const unsigned char bad[] = { MSG_LOG_LINE, 0, 1, 0, 0, 0, 9, 0, 0, 0, 'x' };
	struct pair p;

	(void)state;
	pair_open(&p, IPC_CHAN_LOG);
	raw_hello(p.a.fd, "moat-log", 1);
	raw_send(p.a.fd, bad, sizeof(bad), NULL, 0);
	raw_send(p.a.fd, "\xff\xff", 2, NULL, 0);
	expect_violation(&p, "peer smtpd[42] sent a malformed packet: MSG_LOG_LINE: field 'text': length 9, only 1 bytes left");
	expect_violation(&p, "malformed packet: unknown message type 65535");
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chan_roundtrip_all),
		cmocka_unit_test(test_chan_reuse_and_take),
		cmocka_unit_test(test_chan_hello_eof_again),
		cmocka_unit_test(test_chan_drain),
		cmocka_unit_test(test_chan_last_words_after_reset),
		cmocka_unit_test(test_chan_send_eagain),
		cmocka_unit_test(test_chan_send_refused),
		cmocka_unit_test(test_chan_peer_not_allowed),
		cmocka_unit_test(test_chan_missing_hello),
		cmocka_unit_test(test_chan_wrong_proto),
		cmocka_unit_test(test_chan_wrong_version),
		cmocka_unit_test(test_chan_second_hello),
		cmocka_unit_test(test_chan_fd_wrong_kind),
		cmocka_unit_test(test_chan_fd_surplus),
		cmocka_unit_test(test_chan_fd_on_fdless_type),
		cmocka_unit_test(test_chan_fds_column_matches_types),
		cmocka_unit_test(test_chan_guard),
		cmocka_unit_test(test_chan_lingering_fd_closed_without_waiting),
		cmocka_unit_test(test_chan_oversize),
		cmocka_unit_test(test_chan_malformed),
	};

	return cmocka_run_group_tests(tests, fill_setup, fill_teardown);
}
