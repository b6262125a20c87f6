/*
 * fuzz_queue_file.c - libFuzzer target: arbitrary bytes as a queue file.
 *
 * Each input is parsed twice: from memory (queue_env_parse) and from a memfd
 * through the reader that qmgr and the smtp client use (queue_env_read,
 * which takes the in-memory path for small files and the pread path for
 * large ones, so inputs over 64 KB exercise both). The verdicts must agree.
 * When the file is valid the content is streamed to its end, the done-mark
 * offsets must point at recipient records, and one mark is applied and
 * re-read. Any crash, sanitizer report or disagreement is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/msg.h"
#include "queue/qcontent.h"
#include "queue/qenv.h"
#include "queue/qfile.h"
#include "tests/fuzz/fuzz_util.h"

/* fuzz_content - stream the whole content; it must end cleanly with the right length. */
static void fuzz_content(int fd, const struct queue_env *env)
{
	struct queue_content qc;
	char chunk[4096];
	uint64_t total = 0;
	ssize_t n;

	queue_content_init(&qc, fd, env);
	while ((n = queue_content_read(&qc, chunk, sizeof(chunk))) > 0)
		total += (uint64_t)n;
	if (n != 0 || total != env->content_length)
		abort();	/* VERIFY passed, so the content must read back whole */
}

/* fuzz_marks - every recipient offset holds R or D; marking one keeps the file valid. */
static void fuzz_marks(int fd, const struct queue_env *env)
{
	struct queue_env again;
	unsigned char c;

	for (size_t i = 0; i < env->nrcpts; i++) {
		if (pread(fd, &c, 1, env->rcpts[i].offset) != 1 || c != (env->rcpts[i].done ? 'D' : 'R'))
			abort();
	}
	if (queue_file_mark_done(fd, env->rcpts[0].offset) != 0)
		abort();
	if (queue_env_read(fd, QUEUE_ENV_VERIFY, &again) != QUEUE_ENV_OK || !again.rcpts[0].done
	    || again.nrcpts != env->nrcpts)
		abort();
	queue_env_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct queue_env env;
	int rmem, rfd;

	if (fd < 0) {
		msg_set_sink(fuzz_quiet, NULL);
		if ((fd = memfd_create("fuzz_queue_file", 0)) < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0 || iox_pwrite_full(fd, data, size, 0) != (ssize_t)size)
		abort();
	rmem = queue_env_parse(data, size, QUEUE_ENV_VERIFY, &env);
	queue_env_free(&env);
	rfd = queue_env_read(fd, QUEUE_ENV_VERIFY, &env);
	if (rfd != rmem)
		abort();
	if (rfd == QUEUE_ENV_OK) {
		fuzz_content(fd, &env);
		fuzz_marks(fd, &env);
	}
	queue_env_free(&env);
	/* Without VERIFY a file may be accepted that VERIFY refused, never the reverse. */
	if (queue_env_parse(data, size, 0, &env) != QUEUE_ENV_OK && rmem == QUEUE_ENV_OK)
		abort();
	queue_env_free(&env);
	return 0;
}
