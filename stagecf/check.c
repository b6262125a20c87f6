/*
 * check.c - the whole configuration, checked before moatd forks anything
 * (see check.h).
 *
 * Called by moatd at start-up and on reload. What each stage would refuse
 * at its own start is refused here first, with the same code: a bad
 * configuration then stops moatd with file and line, instead of moatd
 * saying "daemon started" and a stage dying in a loop behind it.
 */
#include <string.h>

#include "lib/msg.h"
#include "lib/strnum.h"
#include "mail/resolve.h"
#include "stagecf/check.h"
#include "stagecf/routes.h"
#include "stagecf/smtpd_policy.h"
#include "stagecf/stagecf.h"

/* The Postfix compatibility level whose defaults moat has. */
#define CHECK_LEVEL_MAJOR	3
#define CHECK_LEVEL_MINOR	6

/* check_level - compatibility_level as "major[.minor[.patch]]"; an older
 * level than moat's draws a warning (the defaults it relies on are not
 * moat's), a malformed one is an error. */
static int check_level(const struct conf *c, struct buf *err)
{
	const char *v = conf_str(c, "compatibility_level");
	int part[3] = { 0, 0, 0 }, n = 0;
	const char *p = v;

	for (;;) {
		size_t len = strspn(p, "0123456789");
		char num[12];

		if (len == 0 || len >= sizeof(num))
			break;
		memcpy(num, p, len);
		num[len] = 0;
		if (strnum_int(num, 0, 100000, &part[n]) < 0)
			break;
		n++;
		p += len;
		if (*p != '.' || n == 3)
			break;
		p++;
	}
	if (n == 0 || *p != 0 || p[-1] == '.')
		return stagecf_fail(err, c, "compatibility_level", "bad level \"%.40s\" (expected "
				    "a Postfix level such as 2 or 3.6)", v);
	if (part[0] < CHECK_LEVEL_MAJOR || (part[0] == CHECK_LEVEL_MAJOR && part[1] < CHECK_LEVEL_MINOR))
		msg_warn("%s: compatibility_level = %s: moat has the defaults of Postfix level %d.%d "
			 "(for example relay_domains is empty, smtputf8_enable = yes); set explicitly "
			 "what this configuration relied on", conf_where(c, "compatibility_level")
			 ? conf_where(c, "compatibility_level") : conf_filename(c), v,
			 CHECK_LEVEL_MAJOR, CHECK_LEVEL_MINOR);
	return 0;
}

/* check_stage - the stage's own loader on its configuration. */
static int check_stage(const struct conf *sc, const char *stage, struct buf *err)
{
	if (strcmp(stage, "smtpd") == 0) {
		struct smtpd_policy p;

		if (smtpd_policy_load(&p, sc, SMTPD_POLICY_WARN, err) < 0)
			return -1;
		smtpd_policy_free(&p);
	} else if (strcmp(stage, "qmgr") == 0) {
		struct resolve r;

		if (routes_load(&r, sc, err) < 0)
			return -1;
		resolve_free(&r);
	}
	return 0;
}

int stagecf_check(const struct conf *c, const struct master_cf *m, struct buf *err)
{
	buf_reset(err);
	if (check_level(c, err) < 0)
		return -1;
	for (size_t i = 0; i < m->nsvc; i++) {
		const struct master_service *sv = &m->svc[i];
		struct conf *sc = conf_service(c, sv, err);
		int r;

		if (!sc)
			return -1;
		r = check_stage(sc, sv->command, err);
		conf_free(sc);
		if (r < 0)
			return -1;
	}
	return 0;
}
