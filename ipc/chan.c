/*
 * chan.c - one end of an IPC channel: typed messages over an AF_UNIX
 * SOCK_SEQPACKET socket, fds by SCM_RIGHTS, hello exchange, allowlists.
 *
 * Every stage and the broker talk through these calls. The receiver trusts
 * nothing the peer sends: who the peer is comes from ipc_chan_init (the
 * broker's word), the first packet must be a matching MSG_HELLO, every
 * packet must decode exactly, and every type must be one the peer's side may
 * send. A side that channels.def lets send no fds cannot: the kernel refuses
 * them at our socket (ipc_chan_guard), and where it cannot, a packet with
 * fds is a violation here. Anything else is a violation too: the caller logs
 * ch->why, closes the channel and reports the peer.
 *
 * This file must never keep an fd that arrived with a rejected packet, never
 * wait in closing one (ipc_fd_close), never let a peer cause a panic, and
 * never send a type our own side may not send (that would be our bug,
 * caught here before the peer sees it).
 *
 * XXX one packet buffer per direction per process (below): stages are
 * single-threaded; a threaded user would need one per thread.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "lib/msg.h"

#define CHAN_WHY_MAX	1024

#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS	83	/* Linux 6.16; Debian 12's headers lack it */
#endif

/* SCM_RIGHTS room for IPC_MAX_FDS fds; aligned for struct cmsghdr. */
union chan_ctl {
	struct cmsghdr align;
	char b[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
};

/* Reused across messages so the hot path does not allocate. */
static struct buf chan_out = BUF_INIT;
static struct buf chan_in = BUF_INIT;

/* chan_peer - the other side. */
static enum ipc_side chan_peer(enum ipc_side side)
{
	return side == IPC_SIDE_A ? IPC_SIDE_B : IPC_SIDE_A;
}

/* ipc_chan_guard - the kernel refuses fds the peer may not send us (see ipc.h). */
int ipc_chan_guard(int fd, enum ipc_chan_kind kind, enum ipc_side side)
{
	int off = 0;

	if (ipc_chan_fds_allowed(kind, chan_peer(side)))
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &off, sizeof(off));
}

/* ipc_chan_pair - a new channel of kind, both ends guarded before either leaves (see ipc.h). */
int ipc_chan_pair(enum ipc_chan_kind kind, int sv[2])
{
	static int warned;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((ipc_chan_guard(sv[0], kind, IPC_SIDE_A) < 0 || ipc_chan_guard(sv[1], kind, IPC_SIDE_B) < 0)
	    && !warned++)
		msg_warn("SO_PASSRIGHTS: %m: unwanted fds are refused only after they arrive");
	return 0;
}

/* ipc_chan_init - one end on fd; the peer's identity comes from the caller. */
void ipc_chan_init(struct ipc_chan *ch, int fd, enum ipc_chan_kind kind, enum ipc_side side,
		   const char *peer_stage, pid_t peer_pid)
{
	size_t n = peer_stage ? strnlen(peer_stage, sizeof(ch->peer_stage) - 1) : 0;

	if ((unsigned)kind >= IPC_CHAN_COUNT || (unsigned)side > IPC_SIDE_B)
		msg_panic("ipc_chan_init: channel kind %d side %d", (int)kind, (int)side);
	ch->fd = fd;
	ch->kind = kind;
	ch->side = side;
	memcpy(ch->peer_stage, peer_stage ? peer_stage : "", n);
	ch->peer_stage[n] = 0;
	ch->peer_pid = peer_pid;
	ch->hello_sent = 0;
	ch->hello_seen = 0;
	buf_init(&ch->why, CHAN_WHY_MAX);
}

/* ipc_chan_close - close the socket and forget the channel. */
void ipc_chan_close(struct ipc_chan *ch)
{
	if (ch->fd >= 0 && close(ch->fd) < 0 && errno != EINTR)
		msg_warn("ipc: close channel to %s[%ld]: %m", ch->peer_stage, (long)ch->peer_pid);
	ch->fd = -1;
	buf_free(&ch->why);
}

/* chan_why - set ch->why, prefixed with who the peer is. */
__attribute__((format(printf, 2, 3)))
static void chan_why(struct ipc_chan *ch, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&ch->why);
	(void)buf_printf(&ch->why, "peer %s[%ld] ", ch->peer_stage, (long)ch->peer_pid);
	va_start(ap, fmt);
	(void)buf_vprintf(&ch->why, fmt, ap);
	va_end(ap);
}

/* chan_close_fds - close fds that came with a packet we reject. */
static void chan_close_fds(const int *fds, int nfds)
{
	for (int i = 0; i < nfds; i++)
		ipc_fd_close(fds[i]);
}

/* chan_sendmsg - one packet with its fds; EINTR retried, EAGAIN returned. */
static int chan_sendmsg(struct ipc_chan *ch, const struct buf *pkt, const int *fds, int nfds)
{
	union chan_ctl ctl;
	struct iovec iov = { pkt->data, pkt->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

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
	do
		n = sendmsg(ch->fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int saved = errno;

		chan_why(ch, "send: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if ((size_t)n != pkt->len) {
		chan_why(ch, "send: short packet (%zd of %zu bytes)", n, pkt->len);
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* chan_send_packet - encode and send; no policy check (callers did it). */
static int chan_send_packet(struct ipc_chan *ch, enum ipc_type type, const void *msg)
{
	int fds[IPC_MAX_FDS];
	int nfds;

	buf_reset(&chan_out);
	if (ipc_encode_why(&chan_out, fds, &nfds, type, msg, &ch->why) < 0) {
		errno = EINVAL;
		return -1;
	}
	return chan_sendmsg(ch, &chan_out, fds, nfds);
}

/* ipc_chan_hello - send our MSG_HELLO, once. */
int ipc_chan_hello(struct ipc_chan *ch)
{
	struct ipc_hello h = { 0 };

	if (ch->hello_sent)
		return 0;
	h.proto = ipc_chan_proto(ch->kind);
	h.version = ipc_chan_version(ch->kind);
	if (chan_send_packet(ch, MSG_HELLO, &h) < 0)
		return -1;
	ch->hello_sent = 1;
	return 0;
}

/* ipc_chan_send - send one message our side may send (hello first if due). */
int ipc_chan_send(struct ipc_chan *ch, enum ipc_type type, const void *msg)
{
	if (type == MSG_HELLO || !ipc_chan_allowed(ch->kind, ch->side, type)) {
		buf_reset(&ch->why);
		(void)buf_printf(&ch->why, "refusing to send %s: side %s may not send it on %s",
				 ipc_type_name(type), ipc_chan_side_name(ch->kind, ch->side),
				 ipc_chan_proto(ch->kind));
		errno = EPERM;
		return -1;
	}
	if (!ch->hello_sent && ipc_chan_hello(ch) < 0)
		return -1;
	return chan_send_packet(ch, type, msg);
}

/*
 * chan_take_fds - copy the fds of every control message out of mh, so that
 * all of them can be closed if anything about the packet is wrong. Returns
 * 0 if there was at most one SOL_SOCKET/SCM_RIGHTS message of exact length.
 */
static int chan_take_fds(struct msghdr *mh, int *fds, int *nfds, int room)
{
	struct cmsghdr *c;
	int ok = 1, seen = 0;

	*nfds = 0;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t payload, n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			ok = 0;
			continue;
		}
		payload = c->cmsg_len - CMSG_LEN(0);
		if (payload % sizeof(int) != 0 || seen++ > 0)
			ok = 0;
		n = payload / sizeof(int);
		for (size_t i = 0; i < n && *nfds < room; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return ok ? 0 : -1;
}

/* chan_recv_packet - one packet into chan_in.data, its fds into fds[]. */
static int chan_recv_packet(struct ipc_chan *ch, size_t *len, int *fds, int *nfds, int room)
{
	union chan_ctl ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (buf_reserve(&chan_in, IPC_MAX_PACKET + 1) < 0)
		msg_panic("ipc: packet buffer cap");
	iov.iov_base = chan_in.data;
	iov.iov_len = IPC_MAX_PACKET + 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	/*
	 * A peer that exits with packets from us still unread makes the kernel
	 * report ECONNRESET once, ahead of the packets it sent us last (a
	 * notice, a seccomp report, its last log lines): read on past it.
	 */
	int resets = 0;

	do
		n = recvmsg(ch->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
	*nfds = 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return IPC_RECV_AGAIN;
	if (n < 0) {
		chan_why(ch, "receive: %s", strerror(errno));
		return IPC_RECV_ERROR;
	}
	if (chan_take_fds(&mh, fds, nfds, room) < 0) {
		chan_why(ch, "sent a control message other than one SCM_RIGHTS");
		goto violation;
	}
	if ((mh.msg_flags & MSG_TRUNC) || n > IPC_MAX_PACKET) {
		chan_why(ch, "sent a packet longer than %d bytes", IPC_MAX_PACKET);
		goto violation;
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		chan_why(ch, "sent more than %d fds", IPC_MAX_FDS);
		goto violation;
	}
	if (n == 0 && *nfds > 0) {
		chan_why(ch, "sent fds without a message");
		goto violation;
	}
	if (*nfds > 0 && !ipc_chan_fds_allowed(ch->kind, chan_peer(ch->side))) {
		chan_why(ch, "sent fds on %s, where its side sends none", ipc_chan_proto(ch->kind));
		goto violation;
	}
	*len = (size_t)n;
	return n == 0 ? IPC_RECV_EOF : IPC_RECV_MSG;
violation:
	chan_close_fds(fds, *nfds);
	*nfds = 0;
	return IPC_RECV_VIOLATION;
}

/* chan_check_type - may the peer send this type now? Checked before decoding. */
static int chan_check_type(struct ipc_chan *ch, unsigned type)
{
	enum ipc_side peer = chan_peer(ch->side);

	if (type == 0 || type >= MSG_COUNT)
		return 0;	/* the decoder says what is wrong with it */
	if (!ch->hello_seen && type != MSG_HELLO) {
		chan_why(ch, "sent %s before MSG_HELLO on %s", ipc_type_name(type),
			 ipc_chan_proto(ch->kind));
		return -1;
	}
	if (ch->hello_seen && type == MSG_HELLO) {
		chan_why(ch, "sent a second MSG_HELLO on %s", ipc_chan_proto(ch->kind));
		return -1;
	}
	if (!ipc_chan_allowed(ch->kind, peer, type)) {
		chan_why(ch, "sent %s, not allowed on %s", ipc_type_name(type),
			 ipc_chan_proto(ch->kind));
		return -1;
	}
	return 0;
}

/* chan_check_hello - the peer's MSG_HELLO must name our protocol and version. */
static int chan_check_hello(struct ipc_chan *ch, const struct ipc_hello *h)
{
	const char *want = ipc_chan_proto(ch->kind);

	if (h->proto_len != strlen(want) || memcmp(h->proto, want, h->proto_len) != 0) {
		chan_why(ch, "speaks another protocol than %s", want);
		return -1;
	}
	if (h->version != ipc_chan_version(ch->kind)) {
		chan_why(ch, "speaks %s version %u, we speak %u", want, h->version,
			 ipc_chan_version(ch->kind));
		return -1;
	}
	ch->hello_seen = 1;
	return 0;
}

/* chan_decode - policy, then strict decoding; fds closed on any failure. */
static int chan_decode(struct ipc_chan *ch, struct ipc_msg *m, size_t len, const int *fds, int nfds)
{
	const unsigned char *p = (const unsigned char *)chan_in.data;
	struct buf reason;

	if (len >= 2 && chan_check_type(ch, (unsigned)p[0] | (unsigned)p[1] << 8) < 0) {
		chan_close_fds(fds, nfds);
		return IPC_RECV_VIOLATION;
	}
	buf_init(&reason, CHAN_WHY_MAX);
	if (ipc_decode(m, p, len, fds, nfds, &reason) < 0) {
		chan_why(ch, "sent a malformed packet: %s", buf_str(&reason));
		buf_free(&reason);
		chan_close_fds(fds, nfds);
		return IPC_RECV_VIOLATION;
	}
	buf_free(&reason);
	return IPC_RECV_MSG;
}

/*
 * ipc_chan_recv - the next message the peer may send, into m (reset
 * first). The peer's MSG_HELLO is consumed here, then the next packet is
 * read (IPC_RECV_AGAIN if a non-blocking fd has none yet).
 */
int ipc_chan_recv(struct ipc_chan *ch, struct ipc_msg *m)
{
	int fds[sizeof(union chan_ctl) / sizeof(int)];
	int nfds, r;
	size_t len;

	for (;;) {
		ipc_msg_reset(m);
		r = chan_recv_packet(ch, &len, fds, &nfds, (int)(sizeof(fds) / sizeof(fds[0])));
		if (r != IPC_RECV_MSG)
			return r;
		if ((r = chan_decode(ch, m, len, fds, nfds)) != IPC_RECV_MSG)
			return r;
		if (m->type != MSG_HELLO)
			return IPC_RECV_MSG;
		r = chan_check_hello(ch, &m->u.hello);
		ipc_msg_reset(m);
		if (r < 0)
			return IPC_RECV_VIOLATION;
	}
}

/*
 * ipc_chan_drain - every message queued on a non-blocking ch, each given to
 * fn (m is reset after each). Returns IPC_RECV_AGAIN when all are read; fn's
 * return value when it is not 0 (the caller's own reason to stop);
 * otherwise the IPC_RECV_* code that ended the channel (EOF, ERROR,
 * VIOLATION): close it then.
 */
int ipc_chan_drain(struct ipc_chan *ch, struct ipc_msg *m, ipc_msg_fn *fn, void *ctx)
{
	for (;;) {
		int r = ipc_chan_recv(ch, m);

		if (r != IPC_RECV_MSG)
			return r;
		r = fn(m, ctx);
		ipc_msg_reset(m);
		if (r != 0)
			return r;
	}
}
