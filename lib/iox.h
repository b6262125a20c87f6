/*
 * iox.h - small I/O helpers that handle EINTR and short transfers once.
 *
 * Every caller gets either the whole transfer or -1 with errno set; no caller
 * loops on write() itself. iox_fsync_dir is how a directory entry (a create,
 * rename or unlink) is made durable.
 */
#ifndef MOAT_LIB_IOX_H
#define MOAT_LIB_IOX_H

#include <stddef.h>
#include <sys/types.h>

ssize_t iox_write_full(int fd, const void *p, size_t n);
ssize_t iox_read_full(int fd, void *p, size_t n);
ssize_t iox_pwrite_full(int fd, const void *p, size_t n, off_t off);
ssize_t iox_pread_full(int fd, void *p, size_t n, off_t off);
int iox_fsync_dirat(int dirfd, const char *path);
int iox_set_nonblock(int fd, int on);
int iox_set_cloexec(int fd, int on);
void iox_close_from(int lowfd);
int iox_poll_read(int fd, int timeout_ms);
int iox_dup_to(int oldfd, int newfd);

#endif
