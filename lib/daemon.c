/*
 * daemon.c - lock, detach, pid file (see daemon.h). Nothing here reads
 * input from anyone; every failure is fatal and names the path.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/daemon.h"
#include "lib/iox.h"
#include "lib/msg.h"

int daemon_lock(const char *path, const char *busy_text)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		msg_fatal("%s: %m", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		msg_fatal("%s", busy_text);
	return fd;
}

void daemon_detach(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		msg_fatal("fork: %m");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		msg_fatal("setsid: %m");
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		msg_fatal("/dev/null: %m");
	for (int i = 0; i < 3; i++)
		if (dup2(fd, i) < 0)
			msg_fatal("dup2: %m");
	if (fd > 2)
		close(fd);
}

void daemon_pidfile(const char *path, int remove)
{
	struct buf tmp = BUF_INIT, text = BUF_INIT;
	int fd;

	if (remove) {
		(void)unlink(path);
		return;
	}
	(void)buf_printf(&tmp, "%s.tmp", path);
	(void)buf_printf(&text, "%ld\n", (long)getpid());
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || iox_write_full(fd, text.data, text.len) < 0 || close(fd) < 0
	    || rename(buf_str(&tmp), path) < 0)
		msg_fatal("%s: %m", path);
	buf_free(&tmp);
	buf_free(&text);
}

void daemon_raise_nofile(unsigned long max)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= max)
		return;
	rl.rlim_max = max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		msg_warn("raise the hard RLIMIT_NOFILE to %lu: %m", max);
}
