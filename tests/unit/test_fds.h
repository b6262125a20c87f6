/*
 * test_fds.h - count this process's open fds, so a unit test can prove
 * that what it exercised leaked none.
 */
#ifndef MOAT_TEST_FDS_H
#define MOAT_TEST_FDS_H

#include <dirent.h>

/* test_count_fds - open fds of this process (the dir fd counts once, always). */
static __attribute__((unused)) int test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

#endif
