/*
 * tree.c - create and verify the queue tree (queue/layout.c) with the right
 * owners and modes.
 *
 * Called by moatd at start, as root. The queue directory itself must be
 * root-owned and not writable by anyone else: it is the chroot of the queue
 * stages, and a stage that could write there could replace "empty", the
 * chroot of the network stages. Every entry is checked with lstat, so a
 * symlink planted in place of a queue directory is refused, never followed.
 * This file must never loosen a mode it finds tighter than the table's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chroot-setup/setup.h"
#include "lib/msg.h"
#include "queue/layout.h"

/* setup_check_dir - one directory: exists, is a real dir, owner and mode. */
static int setup_check_dir(int dfd, const char *path, const char *name, uid_t uid, gid_t gid,
			   mode_t mode, int create, struct buf *err)
{
	struct stat sb;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT || !create)
			return buf_printf(err, "%s/%s: %s", path, name, strerror(errno)), -1;
		if (mkdirat(dfd, name, mode) < 0 || fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return buf_printf(err, "mkdir %s/%s: %s", path, name, strerror(errno)), -1;
	}
	if (!S_ISDIR(sb.st_mode))
		return buf_printf(err, "%s/%s: not a directory", path, name), -1;
	if (sb.st_uid != uid || sb.st_gid != gid) {
		if (!create || fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return buf_printf(err, "%s/%s: owned by %u:%u, must be %u:%u", path, name,
				       sb.st_uid, sb.st_gid, uid, gid), -1;
	}
	if ((sb.st_mode & 07777) != mode) {
		if (!create || fchmodat(dfd, name, mode, 0) < 0)
			return buf_printf(err, "%s/%s: mode %04o, must be %04o", path, name,
				       sb.st_mode & 07777, mode), -1;
	}
	return 0;
}

/* setup_check_empty - the network stages' chroot must hold nothing at all. */
static int setup_check_empty(const char *queue_dir, struct buf *err)
{
	struct buf path = BUF_INIT;
	struct dirent *de;
	DIR *d;
	int r = 0;

	(void)buf_printf(&path, "%s/empty", queue_dir);
	if ((d = opendir(buf_str(&path))) == NULL) {
		buf_printf(err, "%s: %s", buf_str(&path), strerror(errno));
		buf_free(&path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			buf_printf(err, "%s is not empty (found %s): remove it", buf_str(&path), de->d_name);
			r = -1;
			break;
		}
	}
	closedir(d);
	buf_free(&path);
	return r;
}

/* setup_tree - verify (create: make and fix) the queue tree. */
int setup_tree(const char *queue_dir, const struct setup_ids *ids, int create, struct buf *err)
{
	int dfd, r = 0;

	if (queue_dir[0] != '/')
		return buf_printf(err, "queue_directory = %s: must be an absolute path", queue_dir), -1;
	if (create && mkdir(queue_dir, 0755) < 0 && errno != EEXIST)
		return buf_printf(err, "mkdir %s: %s", queue_dir, strerror(errno)), -1;
	if (setup_check_dir(AT_FDCWD, "", queue_dir, 0, 0, 0755, create, err) < 0)
		return -1;
	if ((dfd = open(queue_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return buf_printf(err, "%s: %s", queue_dir, strerror(errno)), -1;
	for (int q = 0; q < QUEUE_NDIRS && r == 0; q++) {
		const struct queue_dir_def *d = &queue_dirs[q];
		int mail = d->owner == QUEUE_OWNER_MAIL;

		r = setup_check_dir(dfd, queue_dir, d->name, mail ? ids->mail_uid : 0,
				    mail ? ids->mail_gid : 0, d->mode, create, err);
	}
	close(dfd);
	if (r == 0)
		r = setup_check_empty(queue_dir, err);
	return r;
}
