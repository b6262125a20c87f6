/*
 * users.c - the system users stages run as (mail_owner, network_user,
 * helper_user, tlskey_user): look them up and, when asked, create missing ones with
 * Debian's useradd as locked system accounts without home or shell.
 *
 * Called by moatd at start, as root, before anything is confined. It must
 * never accept root, a shared uid between the four roles, or a shared
 * primary group: each role's isolation rests on its own ids.
 */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chroot-setup/setup.h"
#include "lib/msg.h"

/* setup_useradd - run useradd for one system account; 0 on success. */
static int setup_useradd(const char *name, struct buf *err)
{
	char *const argv[] = { "useradd", "--system", "--user-group", "--no-create-home",
			       "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
			       (char *)name, NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return buf_printf(err, "fork: %s", strerror(errno)), -1;
	if (pid == 0) {
		execve("/usr/sbin/useradd", argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return buf_printf(err, "waitpid: %s", strerror(errno)), -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return buf_printf(err, "useradd %s failed (status %d)", name, status), -1;
	msg_info("created system user %s", name);
	return 0;
}

static int setup_one_user(const struct conf *c, const char *param, int create,
			  uid_t *uid, gid_t *gid, struct buf *err)
{
	const char *name = conf_str(c, param);
	struct passwd *pw = getpwnam(name);

	if (pw == NULL && create && setup_useradd(name, err) < 0)
		return -1;
	if (pw == NULL && (pw = getpwnam(name)) == NULL)
		return buf_printf(err, "%s = %s: no such user", param, name), -1;
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return buf_printf(err, "%s = %s: must not have uid or gid 0", param, name), -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* setup_users - resolve (and with create, make) the four stage users: each
 * its own uid and primary group, so no stage can signal or trace another's. */
int setup_users(const struct conf *c, int create, struct setup_ids *ids, struct buf *err)
{
	uid_t u[4];
	gid_t g[4];

	if (setup_one_user(c, CONF_NAME("mail_owner"), create, &ids->mail_uid, &ids->mail_gid, err) < 0
	    || setup_one_user(c, CONF_NAME("network_user"), create, &ids->net_uid, &ids->net_gid, err) < 0
	    || setup_one_user(c, CONF_NAME("helper_user"), create, &ids->helper_uid, &ids->helper_gid, err) < 0
	    || setup_one_user(c, CONF_NAME("tlskey_user"), create, &ids->key_uid, &ids->key_gid, err) < 0)
		return -1;
	u[0] = ids->mail_uid, u[1] = ids->net_uid, u[2] = ids->helper_uid, u[3] = ids->key_uid;
	g[0] = ids->mail_gid, g[1] = ids->net_gid, g[2] = ids->helper_gid, g[3] = ids->key_gid;
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++) {
			if (u[i] == u[j])
				return buf_printf(err, "mail_owner, network_user, helper_user and "
						  "tlskey_user must be four different users"), -1;
			if (g[i] == g[j])
				return buf_printf(err, "mail_owner, network_user, helper_user and "
						  "tlskey_user must have different primary groups"), -1;
		}
	return 0;
}
