/*
 * disk_commit.c - the disk's own limit for durable queue commits.
 *
 * N writer processes each repeat what an MTA does per message: create a
 * file, write 5 KB, fsync it, rename it into another directory, fsync that
 * directory, unlink it. Prints commits per second for the whole set. Used by
 * bench/bench.py to put MTA throughput next to what the disk allows.
 *
 * With "reuse" as a fourth argument each writer instead renames its previous
 * file back and overwrites it (what moat's queue does, queue/qspare.h):
 * rename, write 5 KB, fsync, rename, fsync the directory; no inode is
 * allocated or freed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int reuse;

static void die(const char *what)
{
	perror(what);
	exit(1);
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
		if (reuse && i > 0) {
			char prev[512];

			snprintf(prev, sizeof(prev), "%s/done/w%d.%d", dir, k, i - 1);
			if (rename(prev, tmp) < 0)
				die("rename back");
		}
		int fd = open(tmp, O_CREAT | O_WRONLY | (reuse ? 0 : O_EXCL), 0600);

		if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) || fsync(fd) < 0)
			die("write");
		close(fd);
		if (rename(tmp, dst) < 0 || fsync(dfd) < 0 || (!reuse && unlink(dst) < 0))
			die("rename");
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct timespec a, b;
	int n, w;
	char sub[512];

	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "reuse") == 0))
		return fprintf(stderr, "usage: disk_commit dir commits_per_writer writers [reuse]\n"), 2;
	reuse = argc == 5;
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
	rmdir(sub);
	return 0;
}
