/*
 * setup.h - create and verify what the stages stand on: their system users
 * and the queue tree with its owners and modes.
 */
#ifndef MOAT_CHROOT_SETUP_SETUP_H
#define MOAT_CHROOT_SETUP_SETUP_H

#include <sys/types.h>

#include "conf/conf.h"
#include "lib/buf.h"

struct setup_ids {
	uid_t mail_uid;		/* mail_owner: owns the queue */
	gid_t mail_gid;
	uid_t net_uid;		/* network_user: owns no file */
	gid_t net_gid;
	uid_t helper_uid;	/* helper_user: owns no file */
	gid_t helper_gid;
	uid_t key_uid;		/* tlskey_user: owns no file */
	gid_t key_gid;
};

int setup_users(const struct conf *c, int create, struct setup_ids *ids, struct buf *err);
int setup_tree(const char *queue_dir, const struct setup_ids *ids, int create, struct buf *err);

#endif
