/*
 * disk_commit.c - the disk's own limit for durable queue commits.
 *
 * N writer processes each repeat what an MTA does per message: create a
 * file, write 5 KB, fsync it, rename it into another directory, fsync that
 * directory, unlink it. Prints commits per second for the whole set on
 * stdout, and the writers' CPU time per commit on stderr. Used by
 * bench/bench.py to put MTA throughput next to what the disk allows.
 *
 * A fourth argument picks how a delivered file is kept for reuse instead
 * (what moat's queue does, queue/qspare.h): the writer renames its previous
 * file back and overwrites it: rename, write 5 KB, fsync, rename, fsync the
 * directory; no inode is allocated or freed. What happens to the delivered
 * bytes while the file waits:
 *   reuse        nothing: they stay until the next message overwrites them
 *   reuse-trunc  ftruncate to 0 when the message is done (moat's choice:
 *                no old byte and no block held in spare/)
 *   reuse-zero   fallocate(ZERO_RANGE) keeping size and blocks (reads as
 *                zeros; the blocks stay held)
 *   reuse-wipe   zeros written over them, not fsynced (the blocks stay held)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum mode { CREATE, REUSE, REUSE_TRUNC, REUSE_ZERO, REUSE_WIPE };

static enum mode mode;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* release - the message is done: what the mode does to the file's content. */
static void release(int fd, off_t size)
{
	if (mode == REUSE_TRUNC && ftruncate(fd, 0) < 0)
		die("ftruncate");
	if (mode == REUSE_ZERO && fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, size) < 0)
		die("fallocate");
	if (mode == REUSE_WIPE) {
		static const char zeros[5120];

		if (pwrite(fd, zeros, (size_t)size, 0) != size)
			die("wipe");
	}
}

static void writer(const char *dir, int k, int n)
{
	char buf[5120], tmp[512], dst[512], sub[512];
	int dfd;

	memset(buf, 'x', sizeof(buf));
	snprintf(sub, sizeof(sub), "%s/done", dir);
	if ((dfd = open(sub, O_RDONLY | O_DIRECTORY)) < 0)
		die("open dir");
	for (int i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), "%s/w%d.%d", dir, k, i);
		snprintf(dst, sizeof(dst), "%s/done/w%d.%d", dir, k, i);
		if (mode != CREATE && i > 0) {
			char prev[512];

			snprintf(prev, sizeof(prev), "%s/done/w%d.%d", dir, k, i - 1);
			if (rename(prev, tmp) < 0)
				die("rename back");
		}
		int fd = open(tmp, O_CREAT | O_RDWR | (mode != CREATE ? 0 : O_EXCL), 0600);

		if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) || fsync(fd) < 0)
			die("write");
		if (rename(tmp, dst) < 0 || fsync(dfd) < 0 || (mode == CREATE && unlink(dst) < 0))
			die("rename");
		release(fd, sizeof(buf));
		close(fd);
	}
	_exit(0);
}

static int parse_mode(int argc, char **argv)
{
	static const char *names[] = { "create", "reuse", "reuse-trunc", "reuse-zero", "reuse-wipe" };

	if (argc == 4)
		return CREATE;
	for (int m = 0; argc == 5 && m < 5; m++)
		if (strcmp(argv[4], names[m]) == 0)
			return m;
	return -1;
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int n, w, m;
	char sub[512];

	if ((m = parse_mode(argc, argv)) < 0)
		return fprintf(stderr, "usage: disk_commit dir commits_per_writer writers "
			       "[reuse|reuse-trunc|reuse-zero|reuse-wipe]\n"), 2;
	mode = (enum mode)m;
	n = atoi(argv[2]);
	w = atoi(argv[3]);
	snprintf(sub, sizeof(sub), "%s/done", argv[1]);
	if (mkdir(sub, 0700) < 0)
		die("mkdir");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int k = 0; k < w; k++)
		if (fork() == 0)
			writer(argv[1], k, n);
	while (wait(NULL) > 0)
		;
	clock_gettime(CLOCK_MONOTONIC, &b);
	double t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%.0f\n", (double)n * w / t);
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
		double us = ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e6
			    + (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec;

		fprintf(stderr, "cpu %.1f us/commit\n", us / ((double)n * w));
	}
	rmdir(sub);
	return 0;
}
