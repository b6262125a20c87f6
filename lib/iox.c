/*
 * iox.c - EINTR-safe, short-transfer-safe I/O helpers (see iox.h).
 *
 * This file must never hide an error: every failure returns -1 with errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/iox.h"

ssize_t iox_write_full(int fd, const void *p, size_t n)
{
	const char *cp = p;
	size_t done = 0;

	while (done < n) {
		ssize_t r = write(fd, cp + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* iox_read_full - read n bytes; returns fewer only at end of file. */
ssize_t iox_read_full(int fd, void *p, size_t n)
{
	char *cp = p;
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, cp + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

ssize_t iox_pwrite_full(int fd, const void *p, size_t n, off_t off)
{
	const char *cp = p;
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(fd, cp + done, n - done, off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

ssize_t iox_pread_full(int fd, void *p, size_t n, off_t off)
{
	char *cp = p;
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, cp + done, n - done, off + (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/*
 * iox_fsync_dirat - fsync a directory. A new name, a rename or an unlink is
 * only durable once its directory is on disk; fsync of the file alone does
 * not promise that on every filesystem.
 */
int iox_fsync_dirat(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r, saved;

	if (fd < 0)
		return -1;
	do
		r = fsync(fd);
	while (r < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/*
 * iox_set_nonblock - O_NONBLOCK on or off by ioctl(FIONBIO): it changes that
 * one flag only, so confined stages need no fcntl(F_SETFL), which could also
 * clear O_APPEND on a log file they share with the broker.
 */
int iox_set_nonblock(int fd, int on)
{
	return ioctl(fd, FIONBIO, &on);
}

int iox_set_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl);
}

/* iox_close_from - close every fd >= lowfd (close_range, else a loop). */
void iox_close_from(int lowfd)
{
	long maxfd;
	int fd;

	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
	maxfd = sysconf(_SC_OPEN_MAX);
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	for (fd = lowfd; fd < maxfd; fd++)
		(void)close(fd);
}

/* iox_poll_read - 1 if fd is readable (or hung up) within timeout, 0 if not, -1 error. */
int iox_poll_read(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r;
}

/* iox_dup_to - put oldfd at newfd (no-op if equal), without close-on-exec. */
int iox_dup_to(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return iox_set_cloexec(newfd, 0);
	return dup2(oldfd, newfd) < 0 ? -1 : 0;
}
