/*
 * smtpd_attack.c - in the test build only (-DMOAT_TEST_HOOKS): the first
 * smtpd of a service plays a compromised smtpd towards its screen, right
 * after it got its channel, so that tests can show screen survives it.
 *
 * MOAT_TEST_ATTACK="smtpd:screen-fd" sends MSG_SCREEN_DONE with a file
 * descriptor attached (the schema gives that message none);
 * "smtpd:screen-type" sends MSG_SCREEN_CONN (without its fd), which only
 * screen may send;
 * "smtpd:screen-session" sends DONE for a session it was never given.
 * The normal build compiles this to nothing.
 */
#include "daemons/smtpd/smtpd.h"

#ifndef MOAT_TEST_HOOKS
void smtpd_attack_screen(struct stage *st, int fd)
{
	(void)st;
	(void)fd;
}
#else
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/msg.h"

/*
 * attack_send - one raw packet, past our own channel's send check, with fd
 * extra attached (fds the message itself carries are dropped when extra is
 * -2). A refusal by the kernel (SO_PASSRIGHTS off on screen's end) is logged.
 */
static void attack_send(int fd, enum ipc_type type, const void *msg, int extra)
{
	union { struct cmsghdr h; char room[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)]; } u;
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds = 0;
	struct iovec iov;
	struct msghdr mh = { 0 };

	if (ipc_encode(&pkt, fds, &nfds, type, msg) < 0)
		return;
	if (extra == -2)
		nfds = 0;
	if (extra >= 0)
		fds[nfds++] = extra;
	iov.iov_base = pkt.data;
	iov.iov_len = pkt.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.room;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		msg_warn("test: attack %s: refused: %m", ipc_type_name(type));
	buf_free(&pkt);
}

void smtpd_attack_screen(struct stage *st, int fd)
{
	const char *spec = getenv("MOAT_TEST_ATTACK");
	struct ipc_screen_done done = { .session = 4242 };
	struct ipc_screen_conn conn = { .session = 1, .fd = 0 };

	if (spec == NULL || !(st->start_flags & STAGE_START_FIRST))
		return;
	if (strstr(spec, "smtpd:screen-fd"))
		attack_send(fd, MSG_SCREEN_DONE, &done, 0);
	if (strstr(spec, "smtpd:screen-type"))
		attack_send(fd, MSG_SCREEN_CONN, &conn, -2);
	if (strstr(spec, "smtpd:screen-session"))
		attack_send(fd, MSG_SCREEN_DONE, &done, -1);
}
#endif
