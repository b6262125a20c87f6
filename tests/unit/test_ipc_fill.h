/*
 * test_ipc_fill.h - shared by test_ipc.c and test_ipc_chan.c: fills every
 * message of ipc/schema.def with distinctive values (phase 0) and checks a
 * decoded copy against them (phase 1), generated from the schema so that a
 * new message is covered without a new test. Also small fd helpers.
 */
#ifndef MOAT_TEST_IPC_FILL_H
#define MOAT_TEST_IPC_FILL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "tests/unit/test_fds.h"

#define FILL_MAXFDS	32
#define FILL_BIG	60000	/* longest field in "max" mode: keeps any message < 64K */

/* What one round trip made and must check or clean up. */
struct fill {
	int phase;		/* 0: fill the input; 1: check the output */
	int at_max;		/* strings at their max length (capped at FILL_BIG) */
	int k;			/* field counter: makes values distinct */
	char *mem[16];		/* string and bytes buffers handed to the input */
	int nmem;
	int fds[FILL_MAXFDS];	/* fds created for FD fields (and socket peers) */
	int nfds;
	const char *tmp;	/* a regular file for REG and REG_RO fields */
};

typedef __typeof__(((struct ipc_msg *)0)->u) fill_any;

/* fill_same_file - a and b are fds of the same open file. */
static __attribute__((unused)) void fill_same_file(int a, int b)
{
	struct stat sa, sb;

	assert_int_equal(fstat(a, &sa), 0);
	assert_int_equal(fstat(b, &sb), 0);
	assert_true(sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

/* fill_keep - remember an fd to close in fill_done. */
static void fill_keep(struct fill *f, int fd)
{
	assert_true(fd >= 0);
	assert_true(f->nfds < FILL_MAXFDS);
	f->fds[f->nfds++] = fd;
}

/* fill_open_kind - an fd of the declared kind. */
static int fill_open_kind(struct fill *f, enum ipc_fd_kind kind)
{
	int sv[2];

	switch (kind) {
	case IPC_FD_SOCK:
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		fill_keep(f, sv[1]);
		return sv[0];
	case IPC_FD_REG_RO:
		return open(f->tmp, O_RDONLY | O_CLOEXEC);
	case IPC_FD_REG:
		return open(f->tmp, O_RDWR | O_CLOEXEC);
	case IPC_FD_DIR:
		return open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	case IPC_FD_ANY:
		break;
	}
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void fill_u32(struct fill *f, uint32_t *in, uint32_t out)
{
	if (f->phase == 0)
		*in = 0x81020300u + (uint32_t)f->k++;
	else
		assert_int_equal(out, *in);
}

static __attribute__((unused)) void fill_u64(struct fill *f, uint64_t *in, uint64_t out)
{
	if (f->phase == 0)
		*in = 0xf102030405060708ull + (uint64_t)f->k++;
	else
		assert_true(out == *in);
}

/* fill_mem - a buffer of n bytes: letters for text, every byte value for binary. */
static char *fill_mem(struct fill *f, size_t n, int binary)
{
	char *p = malloc(n + 1);

	assert_non_null(p);
	assert_true(f->nmem < 16);
	f->mem[f->nmem++] = p;
	for (size_t i = 0; i < n; i++)
		p[i] = binary ? (char)((i * 7 + (size_t)f->k) & 0xff) : (char)('a' + (i + (size_t)f->k) % 26);
	p[n] = 0;
	f->k++;
	return p;
}

/* fill_len - how long a STR/BYTES field is in this run. */
static uint32_t fill_len(const struct fill *f, uint32_t max)
{
	uint32_t n = f->at_max ? max : 3 + (uint32_t)f->k;

	if (n > max)
		n = max;
	return n > FILL_BIG ? FILL_BIG : n;
}

/* fill_check_data - the decoded copy has the same bytes and a NUL after them. */
static void fill_check_data(const void *in, uint32_t in_len, const void *out, uint32_t out_len)
{
	assert_int_equal(out_len, in_len);
	assert_non_null(out);
	assert_memory_equal(out, in, in_len);
	assert_int_equal(((const char *)out)[out_len], 0);
}

static void fill_str(struct fill *f, const char **in, uint32_t *in_len, const char *out,
		     uint32_t out_len, uint32_t max)
{
	if (f->phase == 0) {
		*in_len = fill_len(f, max);
		*in = fill_mem(f, *in_len, 0);
	} else {
		fill_check_data(*in, *in_len, out, out_len);
	}
}

static __attribute__((unused)) void fill_bytes(struct fill *f, const unsigned char **in,
					       uint32_t *in_len, const unsigned char *out,
					       uint32_t out_len, uint32_t max)
{
	if (f->phase == 0) {
		*in_len = fill_len(f, max);
		*in = (const unsigned char *)fill_mem(f, *in_len, 1);
	} else {
		fill_check_data(*in, *in_len, out, out_len);
	}
}

static void fill_fd(struct fill *f, int *in, int out, enum ipc_fd_kind kind)
{
	if (f->phase == 0) {
		*in = fill_open_kind(f, kind);
		fill_keep(f, *in);
	} else {
		assert_true(out >= 0);
		assert_int_not_equal(out, *in);
		fill_same_file(*in, out);
	}
}

#define IPC_U32(n) fill_u32(f, &in->n, o->n);
#define IPC_U64(n) fill_u64(f, &in->n, o->n);
#define IPC_STR(n, max) fill_str(f, &in->n, &in->n##_len, o->n, o->n##_len, (max));
#define IPC_BYTES(n, max) fill_bytes(f, &in->n, &in->n##_len, o->n, o->n##_len, (max));
#define IPC_FD(n, kind) fill_fd(f, &in->n, o->n, (kind));
#define IPC_MSG(t, nm, fields) \
	static void fill_##nm(struct fill *f, void *inp, const struct ipc_msg *m) \
	{ \
		struct ipc_##nm *in = inp; \
		const struct ipc_##nm *o = &m->u.nm; \
		fields \
	}
#include "ipc/schema.def"
#undef IPC_MSG
#undef IPC_U32
#undef IPC_U64
#undef IPC_STR
#undef IPC_BYTES
#undef IPC_FD

/* One filler per message type, in schema order. */
static const struct fill_entry {
	enum ipc_type type;
	void (*fn)(struct fill *f, void *in, const struct ipc_msg *m);
} fill_table[] = {
#define IPC_MSG(t, nm, fields) { t, fill_##nm },
#include "ipc/schema.def"
#undef IPC_MSG
};

#define FILL_NTYPES (sizeof(fill_table) / sizeof(fill_table[0]))

/* fill_done - free what phase 0 made and close its fds. */
static void fill_done(struct fill *f)
{
	for (int i = 0; i < f->nmem; i++)
		free(f->mem[i]);
	for (int i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	f->nmem = 0;
	f->nfds = 0;
}

/* fill_run - run one phase of the filler for entry e. */
static void fill_run(struct fill *f, const struct fill_entry *e, int phase, void *in,
		     const struct ipc_msg *m)
{
	f->phase = phase;
	f->k = 0;
	e->fn(f, in, m);
}

/* A regular file for REG and REG_RO fields, made by fill_setup. */
static char *fill_tmp_path;

/* fill_setup - cmocka group setup: create fill_tmp_path. */
static int fill_setup(void **state)
{
	int fd;

	(void)state;
	fill_tmp_path = strdup("/tmp/moat-test-ipc-XXXXXX");
	if (fill_tmp_path == NULL || (fd = mkstemp(fill_tmp_path)) < 0)
		return -1;
	if (write(fd, "x", 1) != 1 || close(fd) < 0)
		return -1;
	return 0;
}

/* fill_teardown - cmocka group teardown: remove fill_tmp_path. */
static int fill_teardown(void **state)
{
	(void)state;
	unlink(fill_tmp_path);
	free(fill_tmp_path);
	return 0;
}

#endif
