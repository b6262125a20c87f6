/*
 * daemon.h - the chores of a program that runs as a daemon: one instance
 * per lock file, its fd limit, leaving the terminal, a pid file.
 *
 * Used by moatd (main.c). These never read anything a peer sends; errors
 * are fatal (msg_fatal) with the path, as they come before any work.
 */
#ifndef MOAT_LIB_DAEMON_H
#define MOAT_LIB_DAEMON_H

/* daemon_lock - take the exclusive lock of path (created 0600, never
 * through a symlink) and keep its fd open for life; fatal with busy_text
 * if another process holds it. Returns the fd. */
int daemon_lock(const char *path, const char *busy_text);

/* daemon_raise_nofile - raise the hard RLIMIT_NOFILE (never the soft one)
 * to at least max; a warning if that is not allowed. */
void daemon_raise_nofile(unsigned long max);

/* daemon_detach - fork (the parent exits 0), a new session, fds 0, 1 and 2
 * on /dev/null. */
void daemon_detach(void);

/* daemon_pidfile - write our pid to path, whole (a temporary file renamed
 * over it), or with remove set take it away. */
void daemon_pidfile(const char *path, int remove);

#endif
