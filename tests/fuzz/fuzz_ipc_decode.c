/*
 * fuzz_ipc_decode.c - libFuzzer target for ipc_decode, the parser that sees
 * every packet a possibly compromised peer sends.
 *
 * Each input is decoded twice: as a whole with no fds, and from its second
 * byte on with fds chosen by its first byte (0..IPC_MAX_FDS fds out of two
 * pools opened once: a socket, regular read-only files, a directory,
 * /dev/null). Whatever decodes must encode back to exactly the same bytes
 * and fds (the decoder accepts nothing the encoder would not write), and
 * must never leak or close an fd it did not own.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipc/ipc.h"

static int fuzz_pools[2][IPC_MAX_FDS];

/* fuzz_open - an fd for the pools; the fuzzer cannot run without it. */
static int fuzz_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		abort();
	return fd;
}

/* fuzz_pools_open - pool 0 serves socket fields, pool 1 the selftest's. */
static void fuzz_pools_open(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fuzz_pools[0][0] = sv[0];
	fuzz_pools[0][1] = sv[1];
	fuzz_pools[0][2] = fuzz_open("/", O_RDONLY | O_DIRECTORY);
	fuzz_pools[0][3] = fuzz_open("/dev/null", O_RDONLY);
	fuzz_pools[1][0] = fuzz_open("/proc/self/exe", O_RDONLY);
	fuzz_pools[1][1] = fuzz_open("/proc/self/exe", O_RDONLY);
	fuzz_pools[1][2] = fuzz_open("/", O_RDONLY | O_DIRECTORY);
	fuzz_pools[1][3] = fuzz_open("/dev/null", O_RDONLY);
}

/* fuzz_reencode - a decoded message must encode to the very same packet. */
static void fuzz_reencode(const struct ipc_msg *m, const uint8_t *pkt, size_t len, const int *fds,
			  int nfds)
{
	struct buf out = BUF_INIT;
	int efds[IPC_MAX_FDS], enfds;

	if (ipc_encode(&out, efds, &enfds, m->type, &m->u) < 0)
		abort();
	if (out.len != len || memcmp(out.data, pkt, len) != 0)
		abort();
	if (enfds != nfds || (nfds > 0 && memcmp(efds, fds, sizeof(int) * (size_t)nfds) != 0))
		abort();
	buf_free(&out);
}

/* fuzz_one - decode pkt with fds; take the fds back so they stay open. */
static void fuzz_one(struct ipc_msg *m, const uint8_t *pkt, size_t len, const int *fds, int nfds,
		     struct buf *why)
{
	if (ipc_decode(m, pkt, len, fds, nfds, why) < 0) {
		if (m->nfds != 0 || why->len == 0)
			abort();
		return;
	}
	fuzz_reencode(m, pkt, len, fds, nfds);
	for (int i = 0; i < nfds; i++) {
		if (ipc_msg_take_fd(m, fds[i]) != fds[i])
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct buf why = BUF_INIT;
	struct ipc_msg m;

	if (!ready) {
		fuzz_pools_open();
		ready = 1;
	}
	ipc_msg_init(&m);
	fuzz_one(&m, data, size, NULL, 0, &why);
	if (size >= 1) {
		int nfds = data[0] % (IPC_MAX_FDS + 1);
		const int *pool = fuzz_pools[(data[0] / (IPC_MAX_FDS + 1)) % 2];

		fuzz_one(&m, data + 1, size - 1, pool, nfds, &why);
	}
	ipc_msg_free(&m);
	buf_free(&why);
	return 0;
}
