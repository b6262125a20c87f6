/*
 * test_unixdiag.c - unit tests for lib/unixdiag: a socketpair is open, then
 * closed when either end goes, as the kernel sees it; an fd in flight (sent
 * with SCM_RIGHTS, not yet received) keeps its socket open; unknown inodes
 * are closed; a stale reply left on the socket is not taken for an answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "lib/unixdiag.h"

/* ask_raw - a question about ino whose answer the test leaves unread. */
static void ask_raw(int nl, ino_t ino)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req req;
	} q;

	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.nh.nlmsg_seq = 777777;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = ~0U;
	q.req.udiag_ino = (__u32)ino;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;
	assert_int_equal(send(nl, &q, sizeof(q), 0), sizeof(q));
}

static ino_t ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static void test_pair_open_then_closed(void **state)
{
	int nl = unixdiag_open(), sv[2];
	ino_t a, b;

	(void)state;
	assert_true(nl >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	a = ino_of(sv[0]);
	b = ino_of(sv[1]);
	assert_int_equal(unixdiag_is_open(nl, a), 1);
	assert_int_equal(unixdiag_is_open(nl, b), 1);
	close(sv[0]);
	assert_int_equal(unixdiag_is_open(nl, b), 0);	/* peer gone */
	assert_int_equal(unixdiag_is_open(nl, a), 0);	/* socket gone */
	close(sv[1]);
	assert_int_equal(unixdiag_is_open(nl, b), 0);
	close(nl);
}

static void test_in_flight_counts_as_open(void **state)
{
	int nl = unixdiag_open(), carrier[2], sv[2];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	char c = 'x';
	struct iovec iov = { &c, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			     .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm;
	ino_t b;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, carrier), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	b = ino_of(sv[1]);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
	assert_int_equal(sendmsg(carrier[0], &mh, 0), 1);
	close(sv[1]);	/* only the message in flight holds it now */
	assert_int_equal(unixdiag_is_open(nl, b), 1);
	close(carrier[1]);	/* the message is dropped unread: the socket goes */
	close(carrier[0]);
	close(sv[0]);
	assert_int_equal(unixdiag_is_open(nl, b), 0);
	close(nl);
}

static void test_unknown_and_stale(void **state)
{
	int nl = unixdiag_open(), sv[2];

	(void)state;
	assert_int_equal(unixdiag_is_open(nl, 0xfffffff0U), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* answers to questions nobody read ("open", "no such socket") are skipped */
	ask_raw(nl, ino_of(sv[0]));
	ask_raw(nl, 0xfffffff0U);
	close(sv[1]);
	assert_int_equal(unixdiag_is_open(nl, ino_of(sv[0])), 0);
	ask_raw(nl, 0xfffffff0U);
	assert_int_equal(unixdiag_is_open(nl, ino_of(sv[0])), 0);
	close(sv[0]);
	assert_int_equal(unixdiag_is_open(-1, 1), -1);
	close(nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_open_then_closed),
		cmocka_unit_test(test_in_flight_counts_as_open),
		cmocka_unit_test(test_unknown_and_stale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
