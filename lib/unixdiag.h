/*
 * unixdiag.h - is a channel still open? Asked of the kernel (NETLINK_SOCK_DIAG,
 * unix sockets), never of the processes that hold it.
 *
 * The broker hands out socketpairs and keeps no end of them; to count the
 * channels a process really serves it remembers the inode of one end and asks
 * the kernel about it: a socket that is gone, or whose peer is gone (the
 * kernel then marks it shut down both ways), is a closed channel. Needs no
 * privilege; answers only for sockets of the caller's network namespace.
 */
#ifndef MOAT_LIB_UNIXDIAG_H
#define MOAT_LIB_UNIXDIAG_H

#include <sys/types.h>

/* unixdiag_open - the netlink socket to ask on; -1 with errno. */
int unixdiag_open(void);

/*
 * unixdiag_is_open - 1 if the unix socket with inode ino exists and its peer
 * has not closed, 0 if not (no such socket, or the peer is gone), -1 if the
 * kernel could not be asked (errno set). Never blocks.
 */
int unixdiag_is_open(int nl, ino_t ino);

#endif
