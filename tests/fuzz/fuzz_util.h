/*
 * fuzz_util.h - what several fuzz targets share: a log sink that drops
 * messages (warnings about bad input are expected by the million), and a
 * private queue tree for targets that drive the real queue writer and
 * readers.
 *
 * The tree is made once per process under $TMPDIR (tests/fuzz/run.sh points
 * it at its scratch directory, which it removes) and removed at exit.
 */
#ifndef MOAT_FUZZ_UTIL_H
#define MOAT_FUZZ_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "queue/layout.h"

#define FUZZ_UNUSED __attribute__((unused))

static FUZZ_UNUSED void fuzz_quiet(enum msg_level level, const char *text, size_t len, void *ctx)
{
	(void)level;
	(void)text;
	(void)len;
	(void)ctx;
}

static char fuzz_tree_path[4096];

static FUZZ_UNUSED int fuzz_tree_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static FUZZ_UNUSED void fuzz_tree_remove(void)
{
	nftw(fuzz_tree_path, fuzz_tree_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* fuzz_tree - an fd of a fresh queue tree with every queue directory; aborts on failure. */
static FUZZ_UNUSED int fuzz_tree(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(fuzz_tree_path, sizeof(fuzz_tree_path), "%s/moat-fuzz-queue-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(fuzz_tree_path) == NULL)
		abort();
	atexit(fuzz_tree_remove);
	if ((fd = open(fuzz_tree_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	for (int i = 0; i < QUEUE_NDIRS; i++)
		if (mkdirat(fd, queue_dir_name((enum queue_name)i), 0700) < 0)
			abort();
	return fd;
}

#endif
