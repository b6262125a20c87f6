/*
 * ipc.h - moat's typed IPC: messages from ipc/schema.def over AF_UNIX
 * SOCK_SEQPACKET, one message per packet, fds by SCM_RIGHTS.
 *
 * Wire format of one packet: u16 message type (little endian), then each
 * field of the schema in order: U32 as 4 bytes LE, U64 as 8 bytes LE, STR and
 * BYTES as a u32 LE length and that many bytes, FD as one byte holding the
 * index of the fd in the packet's SCM_RIGHTS array (fds in schema order).
 * Nothing may follow the last field. A packet is at most IPC_MAX_PACKET.
 *
 * Decoding is strict and total: an unknown type, a short or long packet, a
 * length past the field's max, a NUL in a STR, a wrong number of fds, an fd of
 * the wrong kind, or a type the channel does not allow for this side is a
 * protocol violation. A violation is never "best effort": the channel is dead.
 */
#ifndef MOAT_IPC_IPC_H
#define MOAT_IPC_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/buf.h"

#define IPC_MAX_PACKET	(128 * 1024)	/* a header_checks key of header_size_limit; under the 208 KiB default socket buffer */
#define IPC_MAX_FDS	4

enum ipc_fd_kind { IPC_FD_ANY, IPC_FD_SOCK, IPC_FD_REG, IPC_FD_REG_RO, IPC_FD_DIR };

/* enum ipc_type: MSG_* from the schema; 0 is never a valid type. */
enum ipc_type {
	MSG_INVALID = 0,
#define IPC_MSG(type, name, fields) type,
#include "ipc/schema.def"
#undef IPC_MSG
	MSG_COUNT
};

/* struct ipc_<name>: the decoded (or to-be-encoded) fields of one message. */
#define IPC_U32(n) uint32_t n;
#define IPC_U64(n) uint64_t n;
#define IPC_STR(n, max) const char *n; uint32_t n##_len;
#define IPC_BYTES(n, max) const unsigned char *n; uint32_t n##_len;
#define IPC_FD(n, kind) int n;
#define IPC_MSG(type, name, fields) struct ipc_##name { fields };
#include "ipc/schema.def"
#undef IPC_MSG
#undef IPC_U32
#undef IPC_U64
#undef IPC_STR
#undef IPC_BYTES
#undef IPC_FD

/*
 * struct ipc_msg: one received message. Strings point into arena and are
 * NUL-terminated there; fds belong to the message until the receiver takes
 * them (ipc_msg_take_fd) and are closed by ipc_msg_free otherwise.
 */
struct ipc_msg {
	enum ipc_type type;
	union {
#define IPC_MSG(type, name, fields) struct ipc_##name name;
#include "ipc/schema.def"
#undef IPC_MSG
	} u;
	struct buf arena;
	int fds[IPC_MAX_FDS];
	int nfds;
};

/* Channel kinds and sides (ipc/channels.def). */
enum ipc_chan_kind {
#define IPC_CHAN(kind, proto, version, a, b, fds) kind,
#define IPC_ALLOW(kind, side, type)
#define IPC_EDGE(req, srv, kind)
#include "ipc/channels.def"
#undef IPC_CHAN
#undef IPC_ALLOW
#undef IPC_EDGE
	IPC_CHAN_COUNT
};
enum ipc_side { IPC_SIDE_A, IPC_SIDE_B };

/* Which sides of a channel may send fds (the last column of IPC_CHAN). */
#define IPC_FDS_NONE	0
#define IPC_FDS_A	1
#define IPC_FDS_B	2

/* codec.c: pure encoding and decoding, no I/O (fuzzed directly). */
const char *ipc_type_name(enum ipc_type type);
int ipc_encode(struct buf *out, int *fds, int *nfds, enum ipc_type type, const void *msg);
int ipc_decode(struct ipc_msg *m, const void *pkt, size_t len, const int *fds, int nfds,
	       struct buf *why);
void ipc_msg_init(struct ipc_msg *m);
void ipc_msg_free(struct ipc_msg *m);
int ipc_msg_take_fd(struct ipc_msg *m, int fd);

/*
 * Additions to the codec API (codec.c):
 *
 * Life of a struct ipc_msg: ipc_msg_init once; then any number of
 * ipc_decode / ipc_chan_recv into it (each starts with ipc_msg_reset, so a
 * loop may reuse one struct without freeing in between and keeps the arena
 * allocation: no malloc per message); ipc_msg_free once at the end (closes
 * fds not taken, releases the arena; the struct may then be reused as if
 * just initialised). Calling ipc_msg_free after every message is also
 * correct, only slower.
 *
 * ipc_msg_reset   close fds not taken, forget the message, keep the arena.
 * ipc_encode_why  ipc_encode that also says in why (may be NULL) what was wrong.
 * ipc_fd_check    NULL if fd is of the kind, else a short reason ("not a
 *                 socket", "not opened read-only", ...).
 *
 * ipc_encode: a STR with _len 0 and a non-NULL pointer is sent as
 * strlen(pointer) bytes (bounded by max+1, so an overlong string is refused
 * without reading past it); a NULL STR or BYTES pointer with _len 0 is empty.
 * ipc_decode: on success m owns the fds passed in (in m->fds and the FD
 * fields); on -1 the caller still owns them. Decoded STR/BYTES fields are
 * never NULL and are NUL-terminated inside m->arena.
 * ipc_msg_take_fd: returns fd and stops m from closing it; -1 if m does not
 * hold fd.
 */
void ipc_msg_reset(struct ipc_msg *m);
int ipc_encode_why(struct buf *out, int *fds, int *nfds, enum ipc_type type, const void *msg,
		   struct buf *why);
const char *ipc_fd_check(int fd, enum ipc_fd_kind kind);
/* ipc_fd_close - close an fd that came from a peer; never blocks (see codec.c). */
void ipc_fd_close(int fd);

/* channels.c: the allowlists and edges of channels.def. */
const char *ipc_chan_proto(enum ipc_chan_kind kind);
uint32_t ipc_chan_version(enum ipc_chan_kind kind);
int ipc_chan_allowed(enum ipc_chan_kind kind, enum ipc_side sender, enum ipc_type type);
int ipc_edge_lookup(const char *requester, const char *server, enum ipc_chan_kind *kind);
int ipc_chan_fds_allowed(enum ipc_chan_kind kind, enum ipc_side sender);
int ipc_type_fds(enum ipc_type type);
/*
 * ipc_chan_allowed: 1 if that side may send that type (MSG_HELLO: always),
 * else 0. ipc_edge_lookup: 0 and *kind set if channels.def lists the edge,
 * else -1. ipc_chan_side_name: "stage", "broker", ... for log text.
 * ipc_chan_fds_allowed: 1 if that side may send fds on kind (channels.def),
 * else 0. ipc_type_fds: how many FD fields a type has (schema.def).
 */
const char *ipc_chan_side_name(enum ipc_chan_kind kind, enum ipc_side side);

/*
 * chan.c: one end of a channel. The receiver knows who is on the other end
 * (peer_stage, peer_pid) from whoever handed it the fd, never from the peer.
 */
struct ipc_chan {
	int fd;
	enum ipc_chan_kind kind;
	enum ipc_side side;		/* our side */
	char peer_stage[32];
	pid_t peer_pid;
	int hello_sent;
	int hello_seen;
	struct buf why;			/* text of the last error, for logging */
};

void ipc_chan_init(struct ipc_chan *ch, int fd, enum ipc_chan_kind kind, enum ipc_side side,
		   const char *peer_stage, pid_t peer_pid);
void ipc_chan_close(struct ipc_chan *ch);
int ipc_chan_send(struct ipc_chan *ch, enum ipc_type type, const void *msg);
int ipc_chan_recv(struct ipc_chan *ch, struct ipc_msg *m);
typedef int ipc_msg_fn(struct ipc_msg *m, void *ctx);
int ipc_chan_drain(struct ipc_chan *ch, struct ipc_msg *m, ipc_msg_fn *fn, void *ctx);
int ipc_chan_hello(struct ipc_chan *ch);
int ipc_chan_guard(int fd, enum ipc_chan_kind kind, enum ipc_side side);
int ipc_chan_pair(enum ipc_chan_kind kind, int sv[2]);
/*
 * ipc_chan_send: 0, or -1 with ch->why set (refused type: a bug on our side;
 * encoding error: a bug on our side; I/O error). A non-blocking fd whose
 * socket is full gives -1 with errno EAGAIN; a blocking one just blocks.
 * ipc_chan_hello: sends our MSG_HELLO once (later calls do nothing); send
 * does it first by itself when needed.
 * ipc_chan_guard: fd is side's end of a kind channel; if the other side may
 * send no fds, make the kernel refuse any (SO_PASSRIGHTS off, Linux 6.16):
 * its sendmsg then fails with EPERM. 0, or -1 with errno (ENOPROTOOPT: an
 * older kernel; ipc_chan_recv still refuses such fds after the fact). The
 * creator of a socketpair (the broker) calls it on both ends before it hands
 * either out, so no fd can be queued before the guard is up and no confined
 * stage needs the setsockopt.
 * ipc_chan_pair: a new channel of kind (socketpair, close-on-exec): sv[0]
 * side A (the client, or the stage on its broker channel), sv[1] side B,
 * both guarded (a kernel without SO_PASSRIGHTS is warned about once). 0, or
 * -1 with errno.
 * ipc_chan_recv: consumes the peer's MSG_HELLO itself and checks it; after
 * IPC_RECV_VIOLATION or IPC_RECV_ERROR the channel is dead: close it.
 * Not thread-safe: one packet buffer per process (stages are single-threaded).
 */

/* Return values of ipc_chan_recv. */
#define IPC_RECV_MSG		1	/* *m holds a message; ipc_msg_free it */
#define IPC_RECV_EOF		0	/* peer closed */
#define IPC_RECV_AGAIN		(-1)	/* non-blocking fd, nothing there */
#define IPC_RECV_ERROR		(-2)	/* I/O error; ch->why says what */
#define IPC_RECV_VIOLATION	(-3)	/* peer broke the protocol; ch->why says how */

#endif
