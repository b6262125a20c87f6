/*
 * channels.c - the channel kinds of ipc/channels.def as lookup tables.
 *
 * chan.c asks these tables which types each side of a channel may send, and
 * which side may send fds at all; the broker asks ipc_edge_lookup before it
 * joins two stages. The tables are the
 * only policy: this file must never allow anything channels.def does not
 * list, and must answer "no" (never crash) for any out-of-range argument.
 */
#include <string.h>

#include "ipc/ipc.h"

/* Name, version and side names of each channel kind. */
static const struct chan_desc {
	const char *proto;
	uint32_t version;
	const char *side_name[2];
	unsigned fds;		/* IPC_FDS_* */
} chan_descs[IPC_CHAN_COUNT] = {
#define IPC_CHAN(kind, proto, version, a, b, fds) [kind] = { proto, version, { a, b }, fds },
#define IPC_ALLOW(kind, side, type)
#define IPC_EDGE(req, srv, kind)
#include "ipc/channels.def"
#undef IPC_CHAN
#undef IPC_ALLOW
#undef IPC_EDGE
};

/*
 * chan_allow[kind][side][type] is 1 where channels.def lets that side send
 * that type. A duplicate IPC_ALLOW is caught by -Woverride-init.
 */
static const unsigned char chan_allow[IPC_CHAN_COUNT][2][MSG_COUNT] = {
#define IPC_CHAN(kind, proto, version, a, b, fds)
#define IPC_ALLOW(kind, side, type) [kind][side][type] = 1,
#define IPC_EDGE(req, srv, kind)
#include "ipc/channels.def"
#undef IPC_CHAN
#undef IPC_ALLOW
#undef IPC_EDGE
};

/* Which stage may be joined to which, and over what kind of channel. */
static const struct chan_edge {
	const char *requester;
	const char *server;
	enum ipc_chan_kind kind;
} chan_edges[] = {
#define IPC_CHAN(kind, proto, version, a, b, fds)
#define IPC_ALLOW(kind, side, type)
#define IPC_EDGE(req, srv, kind) { req, srv, kind },
#include "ipc/channels.def"
#undef IPC_CHAN
#undef IPC_ALLOW
#undef IPC_EDGE
};

/* How many FD fields each type has, from the schema. */
static const unsigned char chan_type_fds[MSG_COUNT] = {
#define IPC_U32(n)
#define IPC_U64(n)
#define IPC_STR(n, max)
#define IPC_BYTES(n, max)
#define IPC_FD(n, kind) + 1
#define IPC_MSG(type, name, fields) [type] = 0 fields,
#include "ipc/schema.def"
#undef IPC_MSG
#undef IPC_U32
#undef IPC_U64
#undef IPC_STR
#undef IPC_BYTES
#undef IPC_FD
};

/* chan_kind_ok - kind names a declared channel. */
static int chan_kind_ok(enum ipc_chan_kind kind)
{
	return (unsigned)kind < IPC_CHAN_COUNT;
}

/* ipc_chan_proto - the protocol name sent in MSG_HELLO ("moat-broker"). */
const char *ipc_chan_proto(enum ipc_chan_kind kind)
{
	return chan_kind_ok(kind) ? chan_descs[kind].proto : "unknown";
}

/* ipc_chan_version - the protocol version sent in MSG_HELLO; 0 for no kind. */
uint32_t ipc_chan_version(enum ipc_chan_kind kind)
{
	return chan_kind_ok(kind) ? chan_descs[kind].version : 0;
}

/* ipc_chan_side_name - "stage", "broker", ... (for log text). */
const char *ipc_chan_side_name(enum ipc_chan_kind kind, enum ipc_side side)
{
	if (!chan_kind_ok(kind) || (unsigned)side > IPC_SIDE_B)
		return "unknown";
	return chan_descs[kind].side_name[side];
}

/* ipc_chan_allowed - 1 if sender's side may send type on kind, else 0. */
int ipc_chan_allowed(enum ipc_chan_kind kind, enum ipc_side sender, enum ipc_type type)
{
	if (!chan_kind_ok(kind) || (unsigned)sender > IPC_SIDE_B)
		return 0;
	if ((unsigned)type == 0 || (unsigned)type >= MSG_COUNT)
		return 0;
	if (type == MSG_HELLO)
		return 1;
	return chan_allow[kind][sender][type];
}

/* ipc_chan_fds_allowed - 1 if sender's side may send fds on kind, else 0. */
int ipc_chan_fds_allowed(enum ipc_chan_kind kind, enum ipc_side sender)
{
	if (!chan_kind_ok(kind) || (unsigned)sender > IPC_SIDE_B)
		return 0;
	return (chan_descs[kind].fds & (sender == IPC_SIDE_A ? IPC_FDS_A : IPC_FDS_B)) != 0;
}

/* ipc_type_fds - the number of FD fields of type; 0 for no such type. */
int ipc_type_fds(enum ipc_type type)
{
	return (unsigned)type < MSG_COUNT ? chan_type_fds[type] : 0;
}

/* ipc_edge_lookup - 0 with *kind if requester may get a channel to server. */
int ipc_edge_lookup(const char *requester, const char *server, enum ipc_chan_kind *kind)
{
	if (requester == NULL || server == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(chan_edges) / sizeof(chan_edges[0]); i++) {
		if (strcmp(chan_edges[i].requester, requester) == 0 &&
		    strcmp(chan_edges[i].server, server) == 0) {
			*kind = chan_edges[i].kind;
			return 0;
		}
	}
	return -1;
}
