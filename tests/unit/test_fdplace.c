/*
 * test_fdplace.c - unit tests for lib/fdplace, each in a forked child (it
 * closes the fds of the process): sources anywhere, repeated, already in
 * the target range; nothing else left open; works at RLIMIT_NOFILE's edge.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fdplace.h"

/* same_file - fd refers to the file whose inode is ino. */
static int same_file(int fd, ino_t ino)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_ino == ino;
}

/* child_check - in the child: place src, then prove where everything is. */
static int child_check(const int *src, int n)
{
	ino_t want[FDPLACE_MAX];
	struct stat st;

	for (int i = 0; i < n; i++) {
		if (fstat(src[i], &st) < 0)
			return 10;
		want[i] = st.st_ino;
	}
	if (fdplace(src, n) < 0)
		return 11;
	for (int i = 0; i < n; i++)
		if (!same_file(i, want[i]) || fcntl(i, F_GETFD) != 0)	/* no close-on-exec */
			return 12;
	for (int fd = n; fd < n + 200; fd++)
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			return 13;
	return 0;
}

static int run_child(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int case_mixed(void)
{
	int p[2], q[2], src[6];

	if (pipe(p) < 0 || pipe(q) < 0 || dup2(q[1], 40) < 0)
		return 20;
	/* sources above, below and inside 0..5, one twice */
	src[0] = 40;
	src[1] = p[0];
	src[2] = 2;
	src[3] = p[0];
	src[4] = 0;
	src[5] = q[0];
	return child_check(src, 6);
}

static int case_fd_limit(void)
{
	struct rlimit rl = { 16, 16 };
	int p[2], src[5];

	if (pipe(p) < 0 || setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 20;
	while (dup(p[0]) >= 0)	/* the table is full now */
		;
	src[0] = p[0];
	src[1] = p[1];
	src[2] = 15;
	src[3] = 1;
	src[4] = 14;
	return child_check(src, 5);
}

static int case_too_many(void)
{
	int src[FDPLACE_MAX + 1] = { 0 };

	return fdplace(src, FDPLACE_MAX + 1) == -1 && errno == EINVAL ? 0 : 30;
}

static void test_mixed(void **state)
{
	(void)state;
	assert_int_equal(run_child(case_mixed), 0);
}

static void test_fd_limit(void **state)
{
	(void)state;
	assert_int_equal(run_child(case_fd_limit), 0);
}

static void test_too_many(void **state)
{
	(void)state;
	assert_int_equal(run_child(case_too_many), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
