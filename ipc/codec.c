/*
 * codec.c - encode and decode moat's IPC messages (wire format in ipc.h).
 *
 * The field tables are generated from ipc/schema.def by X-macros, so the
 * encoder, the decoder and the C structs can never disagree about a message.
 * Called by chan.c for every packet, by tools and tests directly, and by the
 * fuzzer with arbitrary bytes.
 *
 * ipc_decode sees bytes a possibly compromised peer chose. It must never
 * read past the packet, never accept anything the schema does not describe
 * exactly (unknown type, short or long packet, oversize or NUL-holding
 * string, fds missing, extra, reordered or of the wrong kind), never
 * allocate more than the packet's size, and never panic: every problem is a
 * -1 with a reason. This file does no I/O besides fstat/fcntl/close on fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "lib/msg.h"

/* The arena holds at most a packet's bytes plus one NUL per field. */
#define CODEC_ARENA_MAX	(2 * IPC_MAX_PACKET)

enum codec_kind { CODEC_END, CODEC_U32, CODEC_U64, CODEC_STR, CODEC_BYTES, CODEC_FD };

/* One field of one message: where it lives in struct ipc_<name>. */
struct codec_field {
	enum codec_kind kind;
	enum ipc_fd_kind fd_kind;
	uint32_t max;
	size_t off;		/* the value, or the pointer of STR/BYTES */
	size_t len_off;		/* STR/BYTES: the _len member */
	const char *name;
};

struct codec_desc {
	const char *name;	/* "MSG_HELLO" */
	const struct codec_field *fields;
	size_t nfields;
};

/* The cursor of one decode. */
struct codec_in {
	const unsigned char *p;
	size_t len;
	size_t pos;
	const char *msg;	/* type name, for reasons */
	struct buf *why;
};

#define IPC_U32(n) { CODEC_U32, IPC_FD_ANY, 0, offsetof(codec_cur, n), 0, #n },
#define IPC_U64(n) { CODEC_U64, IPC_FD_ANY, 0, offsetof(codec_cur, n), 0, #n },
#define IPC_STR(n, max) \
	{ CODEC_STR, IPC_FD_ANY, (max), offsetof(codec_cur, n), offsetof(codec_cur, n##_len), #n },
#define IPC_BYTES(n, max) \
	{ CODEC_BYTES, IPC_FD_ANY, (max), offsetof(codec_cur, n), offsetof(codec_cur, n##_len), #n },
#define IPC_FD(n, kind) { CODEC_FD, (kind), 0, offsetof(codec_cur, n), 0, #n },

/*
 * codec_desc - the field table of a type, NULL if there is no such type.
 * Each case declares its own codec_cur so that offsetof can name the
 * struct of that message (a field macro cannot see the message's name).
 */
static const struct codec_desc *codec_desc(unsigned type)
{
	switch (type) {
#define IPC_MSG(t, nm, fields) \
	case t: { \
		typedef struct ipc_##nm codec_cur; \
		static const struct codec_field f[] = { fields { CODEC_END, IPC_FD_ANY, 0, 0, 0, NULL } }; \
		static const struct codec_desc d = { #t, f, sizeof f / sizeof f[0] - 1 }; \
		return &d; \
	}
#include "ipc/schema.def"
#undef IPC_MSG
	default:
		return NULL;
	}
}

#undef IPC_U32
#undef IPC_U64
#undef IPC_STR
#undef IPC_BYTES
#undef IPC_FD

/* ipc_type_name - "MSG_HELLO" etc.; never NULL. */
const char *ipc_type_name(enum ipc_type type)
{
	const struct codec_desc *d = codec_desc((unsigned)type);

	if (d)
		return d->name;
	return type == MSG_INVALID ? "MSG_INVALID" : "MSG_UNKNOWN";
}

/* codec_why - set the reason text, if the caller wants one. */
__attribute__((format(printf, 2, 3)))
static void codec_why(struct buf *why, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL)
		return;
	buf_reset(why);
	va_start(ap, fmt);
	(void)buf_vprintf(why, fmt, ap);
	va_end(ap);
}

/*
 * ipc_fd_close - close an fd a peer sent us, without ever waiting on it: a
 * socket gets SO_LINGER off first, so a TCP socket with a lingering close
 * and a full send queue, handed over as the last reference to it, cannot
 * hold the caller in close() (the close then finishes in the background).
 * Other kinds a stage can hold (pipes, local files, UDP) never wait.
 */
void ipc_fd_close(int fd)
{
	struct linger off = { 0, 0 };
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &off, sizeof(off));
	if (close(fd) < 0 && errno != EINTR)
		msg_warn("ipc: close fd %d: %m", fd);
}

/* ipc_msg_init - an empty message, ready for ipc_decode / ipc_chan_recv. */
void ipc_msg_init(struct ipc_msg *m)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->arena, CODEC_ARENA_MAX);
	for (int i = 0; i < IPC_MAX_FDS; i++)
		m->fds[i] = -1;
	m->type = MSG_INVALID;
}

/* ipc_msg_reset - close fds not taken and forget the message; keep the arena. */
void ipc_msg_reset(struct ipc_msg *m)
{
	for (int i = 0; i < m->nfds && i < IPC_MAX_FDS; i++) {
		if (m->fds[i] >= 0)
			ipc_fd_close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->nfds = 0;
	m->type = MSG_INVALID;
	memset(&m->u, 0, sizeof(m->u));
	buf_reset(&m->arena);
}

/* ipc_msg_free - ipc_msg_reset, then release the arena too. */
void ipc_msg_free(struct ipc_msg *m)
{
	ipc_msg_reset(m);
	buf_free(&m->arena);
}

/* ipc_msg_take_fd - the receiver keeps fd; ipc_msg_free will not close it. */
int ipc_msg_take_fd(struct ipc_msg *m, int fd)
{
	if (fd < 0)
		return -1;
	for (int i = 0; i < m->nfds && i < IPC_MAX_FDS; i++) {
		if (m->fds[i] == fd) {
			m->fds[i] = -1;
			return fd;
		}
	}
	return -1;
}

/* ipc_fd_check - NULL if fd is of the declared kind, else why not. */
const char *ipc_fd_check(int fd, enum ipc_fd_kind kind)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0)
		return "fstat failed";
	switch (kind) {
	case IPC_FD_ANY:
		return NULL;
	case IPC_FD_SOCK:
		return S_ISSOCK(st.st_mode) ? NULL : "not a socket";
	case IPC_FD_REG:
		return S_ISREG(st.st_mode) ? NULL : "not a regular file";
	case IPC_FD_DIR:
		return S_ISDIR(st.st_mode) ? NULL : "not a directory";
	case IPC_FD_REG_RO:
		if (!S_ISREG(st.st_mode))
			return "not a regular file";
		if ((fl = fcntl(fd, F_GETFL)) < 0)
			return "fcntl F_GETFL failed";
		return (fl & O_ACCMODE) == O_RDONLY ? NULL : "not opened read-only";
	}
	return "unknown fd kind";
}

/* codec_put_le - append n bytes of v, little endian. */
static int codec_put_le(struct buf *out, uint64_t v, size_t n)
{
	unsigned char b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return buf_append(out, b, n);
}

/* codec_put_data - a STR or BYTES field: checked length, then the bytes. */
static int codec_put_data(struct buf *out, const struct codec_desc *d, const struct codec_field *f,
			  const unsigned char *base, struct buf *why)
{
	const void *p;
	uint32_t n;

	memcpy(&p, base + f->off, sizeof(p));
	memcpy(&n, base + f->len_off, sizeof(n));
	if (p == NULL && n > 0) {
		codec_why(why, "%s: field '%s': NULL with length %u", d->name, f->name, n);
		return -1;
	}
	if (f->kind == CODEC_STR && p != NULL && n == 0)
		n = (uint32_t)strnlen(p, (size_t)f->max + 1);
	if (n > f->max) {
		codec_why(why, "%s: field '%s': length %u > max %u", d->name, f->name, n, f->max);
		return -1;
	}
	if (f->kind == CODEC_STR && n > 0 && memchr(p, 0, n) != NULL) {
		codec_why(why, "%s: field '%s': NUL inside the string", d->name, f->name);
		return -1;
	}
	if (codec_put_le(out, n, 4) < 0 || buf_append(out, p, n) < 0) {
		codec_why(why, "%s: packet > %d bytes", d->name, IPC_MAX_PACKET);
		return -1;
	}
	return 0;
}

/* codec_put_fd - an FD field: its index byte, and the fd into fds[]. */
static int codec_put_fd(struct buf *out, const struct codec_desc *d, const struct codec_field *f,
			const unsigned char *base, int *fds, int *nfds, struct buf *why)
{
	int fd;

	memcpy(&fd, base + f->off, sizeof(fd));
	if (fd < 0) {
		codec_why(why, "%s: field '%s': fd %d", d->name, f->name, fd);
		return -1;
	}
	if (*nfds >= IPC_MAX_FDS) {
		codec_why(why, "%s: more than %d fds", d->name, IPC_MAX_FDS);
		return -1;
	}
	fds[*nfds] = fd;
	return codec_put_le(out, (uint64_t)(*nfds)++, 1);
}

/* codec_put_field - append one field of the message at base. */
static int codec_put_field(struct buf *out, const struct codec_desc *d, const struct codec_field *f,
			   const unsigned char *base, int *fds, int *nfds, struct buf *why)
{
	uint32_t v32;
	uint64_t v64;

	switch (f->kind) {
	case CODEC_U32:
		memcpy(&v32, base + f->off, sizeof(v32));
		return codec_put_le(out, v32, 4);
	case CODEC_U64:
		memcpy(&v64, base + f->off, sizeof(v64));
		return codec_put_le(out, v64, 8);
	case CODEC_STR:
	case CODEC_BYTES:
		return codec_put_data(out, d, f, base, why);
	case CODEC_FD:
		return codec_put_fd(out, d, f, base, fds, nfds, why);
	case CODEC_END:
		break;
	}
	msg_panic("ipc: field '%s' of %s has kind %d", f->name, d->name, (int)f->kind);
}

/*
 * ipc_encode_why - append one packet of the given type to out; the fds it
 * carries go to fds[] (room for IPC_MAX_FDS) in schema order. On -1 (a bug
 * in the caller: bad type, overlong or NUL-holding string, negative fd,
 * oversize packet) out is as it was and *nfds is 0.
 */
int ipc_encode_why(struct buf *out, int *fds, int *nfds, enum ipc_type type, const void *msg,
		   struct buf *why)
{
	const struct codec_desc *d = codec_desc((unsigned)type);
	size_t start = out->len;

	*nfds = 0;
	if (d == NULL) {
		codec_why(why, "unknown message type %d", (int)type);
		return -1;
	}
	if (codec_put_le(out, (uint64_t)type, 2) < 0)
		goto toolong;
	for (size_t i = 0; i < d->nfields; i++) {
		if (codec_put_field(out, d, &d->fields[i], msg, fds, nfds, why) < 0)
			goto fail;
	}
	if (out->len - start <= IPC_MAX_PACKET)
		return 0;
toolong:
	codec_why(why, "%s: packet > %d bytes", d->name, IPC_MAX_PACKET);
fail:
	buf_truncate(out, start);
	*nfds = 0;
	return -1;
}

int ipc_encode(struct buf *out, int *fds, int *nfds, enum ipc_type type, const void *msg)
{
	return ipc_encode_why(out, fds, nfds, type, msg, NULL);
}

/* codec_get_le - read an n-byte little-endian number; -1 if truncated. */
static int codec_get_le(struct codec_in *in, const struct codec_field *f, size_t n, uint64_t *v)
{
	if (in->len - in->pos < n) {
		codec_why(in->why, "%s: field '%s': truncated", in->msg, f->name);
		return -1;
	}
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v |= (uint64_t)in->p[in->pos + i] << (8 * i);
	in->pos += n;
	return 0;
}

/* codec_get_data - a STR or BYTES field, copied NUL-terminated into arena. */
static int codec_get_data(struct codec_in *in, const struct codec_field *f, unsigned char *base,
			  struct buf *arena)
{
	const char *p;
	uint64_t n;
	uint32_t n32;

	if (codec_get_le(in, f, 4, &n) < 0)
		return -1;
	if (n > f->max) {
		codec_why(in->why, "%s: field '%s': length %llu > max %u", in->msg, f->name,
			  (unsigned long long)n, f->max);
		return -1;
	}
	if (in->len - in->pos < n) {
		codec_why(in->why, "%s: field '%s': length %llu, only %zu bytes left", in->msg,
			  f->name, (unsigned long long)n, in->len - in->pos);
		return -1;
	}
	if (f->kind == CODEC_STR && memchr(in->p + in->pos, 0, n) != NULL) {
		codec_why(in->why, "%s: field '%s': NUL inside the string", in->msg, f->name);
		return -1;
	}
	/* The arena was reserved up front: these appends never move it. */
	p = arena->data + arena->len;
	if (buf_append(arena, in->p + in->pos, n) < 0 || buf_putc(arena, 0) < 0)
		msg_panic("ipc: arena reserve too small for %s", in->msg);
	in->pos += n;
	n32 = (uint32_t)n;
	memcpy(base + f->off, &p, sizeof(p));
	memcpy(base + f->len_off, &n32, sizeof(n32));
	return 0;
}

/* codec_get_fd - an FD field: its index must be the next unused fd. */
static int codec_get_fd(struct codec_in *in, const struct codec_field *f, unsigned char *base,
			const int *fds, int nfds, int *used)
{
	uint64_t idx;

	if (codec_get_le(in, f, 1, &idx) < 0)
		return -1;
	if (*used >= nfds) {
		codec_why(in->why, "%s: field '%s': no fd left (%d received)", in->msg, f->name,
			  nfds);
		return -1;
	}
	if (idx != (uint64_t)*used) {
		codec_why(in->why, "%s: field '%s': fd index %llu, expected %d", in->msg, f->name,
			  (unsigned long long)idx, *used);
		return -1;
	}
	memcpy(base + f->off, &fds[*used], sizeof(int));
	(*used)++;
	return 0;
}

/* codec_get_field - decode one field into the struct at base. */
static int codec_get_field(struct codec_in *in, const struct codec_field *f, unsigned char *base,
			   struct buf *arena, const int *fds, int nfds, int *used)
{
	uint64_t v;
	uint32_t v32;

	switch (f->kind) {
	case CODEC_U32:
		if (codec_get_le(in, f, 4, &v) < 0)
			return -1;
		v32 = (uint32_t)v;
		memcpy(base + f->off, &v32, sizeof(v32));
		return 0;
	case CODEC_U64:
		if (codec_get_le(in, f, 8, &v) < 0)
			return -1;
		memcpy(base + f->off, &v, sizeof(v));
		return 0;
	case CODEC_STR:
	case CODEC_BYTES:
		return codec_get_data(in, f, base, arena);
	case CODEC_FD:
		return codec_get_fd(in, f, base, fds, nfds, used);
	case CODEC_END:
		break;
	}
	msg_panic("ipc: field '%s' of %s has kind %d", f->name, in->msg, (int)f->kind);
}

/* codec_check_fds - every fd must be of the kind its field declares. */
static int codec_check_fds(const struct codec_desc *d, const int *fds, struct buf *why)
{
	const char *bad;
	int k = 0;

	for (size_t i = 0; i < d->nfields; i++) {
		if (d->fields[i].kind != CODEC_FD)
			continue;
		if ((bad = ipc_fd_check(fds[k++], d->fields[i].fd_kind)) != NULL) {
			codec_why(why, "%s: field '%s': %s", d->name, d->fields[i].name, bad);
			return -1;
		}
	}
	return 0;
}

/* codec_decode_body - walk the fields of d over the whole packet. */
static int codec_decode_body(struct ipc_msg *m, const struct codec_desc *d, struct codec_in *in,
			     const int *fds, int nfds)
{
	int used = 0;

	if (buf_reserve(&m->arena, in->len + d->nfields) < 0)
		msg_panic("ipc: arena cap below a packet of %zu bytes", in->len);
	for (size_t i = 0; i < d->nfields; i++) {
		if (codec_get_field(in, &d->fields[i], (unsigned char *)&m->u, &m->arena, fds, nfds,
				    &used) < 0)
			return -1;
	}
	if (in->pos != in->len) {
		codec_why(in->why, "%s: %zu bytes after the last field", d->name, in->len - in->pos);
		return -1;
	}
	if (used != nfds) {
		codec_why(in->why, "%s: %d fds received, message carries %d", d->name, nfds, used);
		return -1;
	}
	return codec_check_fds(d, fds, in->why);
}

/*
 * ipc_decode - parse one packet into m (reset first). On success m owns the
 * fds; on -1 (why says what was wrong) m is empty and the caller still owns
 * them. m must have been through ipc_msg_init.
 */
int ipc_decode(struct ipc_msg *m, const void *pkt, size_t len, const int *fds, int nfds,
	       struct buf *why)
{
	struct codec_in in = { pkt, len, 0, "packet", why };
	const struct codec_desc *d;
	unsigned type;

	ipc_msg_reset(m);
	if (len > IPC_MAX_PACKET) {
		codec_why(why, "packet of %zu bytes > max %d", len, IPC_MAX_PACKET);
		return -1;
	}
	if (nfds < 0 || nfds > IPC_MAX_FDS) {
		codec_why(why, "%d fds with one packet", nfds);
		return -1;
	}
	if (len < 2) {
		codec_why(why, "packet of %zu bytes has no type", len);
		return -1;
	}
	type = (unsigned)in.p[0] | (unsigned)in.p[1] << 8;
	if ((d = codec_desc(type)) == NULL) {
		codec_why(why, "unknown message type %u", type);
		return -1;
	}
	in.pos = 2;
	in.msg = d->name;
	if (codec_decode_body(m, d, &in, fds, nfds) < 0) {
		/* The fds stay the caller's: do not let reset close them. */
		memset(&m->u, 0, sizeof(m->u));
		buf_reset(&m->arena);
		return -1;
	}
	m->type = (enum ipc_type)type;
	for (int i = 0; i < nfds; i++)
		m->fds[i] = fds[i];
	m->nfds = nfds;
	return 0;
}
