/*
 * unixdiag.c - one exact SOCK_DIAG_BY_FAMILY lookup per question (see
 * unixdiag.h).
 *
 * The answer is parsed as kernel output, still strictly: only a reply with
 * our sequence number and the inode we asked for counts; anything else left
 * on the socket by an earlier question is read and dropped. Replies come
 * back within the send (the kernel answers synchronously), so the receive is
 * non-blocking and an empty socket is an error, never a wait.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "lib/unixdiag.h"

#define UNIXDIAG_REPLY_MAX 1024	/* one unix_diag_msg and a few small attributes */

static unsigned unixdiag_seq;

int unixdiag_open(void)
{
	return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

/* unixdiag_ask - send the exact lookup of ino under sequence number seq. */
static int unixdiag_ask(int nl, ino_t ino, unsigned seq)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req req;
	} q;

	memset(&q, 0, sizeof(q));
	q.nh.nlmsg_len = sizeof(q);
	q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nh.nlmsg_flags = NLM_F_REQUEST;
	q.nh.nlmsg_seq = seq;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = ~0U;
	q.req.udiag_ino = (__u32)ino;
	q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0U;	/* no cookie check */
	return send(nl, &q, sizeof(q), MSG_DONTWAIT) == (ssize_t)sizeof(q) ? 0 : -1;
}

/* unixdiag_shutdown - the UNIX_DIAG_SHUTDOWN bits of a reply (0 if absent). */
static unsigned unixdiag_shutdown(const struct nlmsghdr *h)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a = (const struct rtattr *)(m + 1);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == UNIX_DIAG_SHUTDOWN && RTA_PAYLOAD(a) >= 1)
			return *(const unsigned char *)RTA_DATA(a);
	return 0;
}

/* unixdiag_answer - 1/0 from one reply for (seq, ino); -2 if it is not ours. */
static int unixdiag_answer(const struct nlmsghdr *h, size_t n, unsigned seq, ino_t ino)
{
	if (n < sizeof(*h) || h->nlmsg_len > n || h->nlmsg_seq != seq)
		return -2;
	if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		if (e->error == -ENOENT)
			return 0;
		errno = e->error < 0 ? -e->error : EPROTO;
		return -1;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY
	    || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg))
	    || ((const struct unix_diag_msg *)NLMSG_DATA(h))->udiag_ino != (__u32)ino)
		return -2;
	return unixdiag_shutdown(h) == 0 ? 1 : 0;
}

int unixdiag_is_open(int nl, ino_t ino)
{
	union {
		struct nlmsghdr h;
		char b[UNIXDIAG_REPLY_MAX];
	} r;
	unsigned seq = ++unixdiag_seq;
	ssize_t n;

	if (unixdiag_ask(nl, ino, seq) < 0)
		return -1;
	for (;;) {
		int a;

		n = recv(nl, r.b, sizeof(r.b), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if ((a = unixdiag_answer(&r.h, (size_t)n, seq, ino)) != -2)
			return a;
	}
}
