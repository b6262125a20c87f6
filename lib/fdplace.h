/*
 * fdplace.h - put a list of fds at 0..n-1 of the calling process and close
 * every other one: what a parent does in a forked child before execve.
 */
#ifndef MOAT_LIB_FDPLACE_H
#define MOAT_LIB_FDPLACE_H

#define FDPLACE_MAX 64

/*
 * fdplace - src[i] ends up at fd i (without close-on-exec), for i < n <=
 * FDPLACE_MAX; nothing else stays open. A source may appear twice and may
 * already sit anywhere, in 0..n-1 too. Works at the edge of RLIMIT_NOFILE:
 * it closes the rest first, so the copies it makes always have room.
 * 0, or -1 with errno (the fds are then in an undefined state: _exit).
 */
int fdplace(const int *src, int n);

#endif
