/*
 * check.c - the whole configuration, checked before moatd forks anything
 * (see check.h).
 *
 * Called by moatd at start-up and on reload. What each stage would refuse
 * at its own start is refused here first, with the same code: a bad
 * configuration then stops moatd with file and line, instead of moatd
 * saying "daemon started" and a stage dying in a loop behind it.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/strnum.h"
#include "mail/mynetworks.h"
#include "mail/resolve.h"
#include "sandbox/sandbox.h"
#include "sandbox/stagedef.h"
#include "stagecf/canon.h"
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

/* check_fail - a master.cf problem into err; always -1. */
static int check_fail(struct buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check_fail(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf(err, fmt, ap);
	va_end(ap);
	return -1;
}

/* check_program - <daemon_directory>/moat-<stage> exists and may be run. */
static int check_program(const struct conf *c, const struct master_service *sv, const char *stage,
			 struct buf *err)
{
	struct buf path = BUF_INIT;
	int r = 0;

	(void)buf_printf(&path, "%s/moat-%s", conf_str(c, "daemon_directory"), stage);
	if (access(buf_str(&path), X_OK) < 0) {
		(void)buf_printf(err, "%s: service %s: %s: %m", sv->where, sv->name, buf_str(&path));
		r = -1;
	}
	buf_free(&path);
	return r;
}

/*
 * check_service - what the broker would refuse in a master.cf line
 * (daemons/broker/services.c): found here first, so that a reload with a
 * bad line is refused while the running configuration stays.
 */
static int check_service(const struct conf *c, const struct master_service *sv,
			 const struct stagedef **def, struct buf *err)
{
	int inet = strcmp(sv->type, "inet") == 0;

	*def = stagedef_lookup(sv->command);
	if (*def == NULL || sandbox_policy_lookup(sv->command) == NULL
	    || ((*def)->flags & STAGEDEF_F_LISTENS))
		return check_fail(err, "%s: service %s: unknown stage program \"%s\"", sv->where,
				  sv->name, sv->command);
	if (sv->args && sv->args[0])
		return check_fail(err, "%s: service %s: unexpected argument \"%s\" (use -o name=value)",
				  sv->where, sv->name, sv->args[0]);
	if (inet != !!((*def)->flags & STAGEDEF_F_SCREENED))
		return check_fail(err, inet ? "%s: inet service %s runs %s, which serves no client"
				  : "%s: service %s: %s needs an inet service", sv->where, sv->name,
				  sv->command);
	if (check_program(c, sv, sv->command, err) < 0)
		return -1;
	return inet ? check_program(c, sv, stagedef_listener()->name, err) : 0;
}

/* check_screen - what screen refuses at start for an inet service. */
static int check_screen(const struct conf *sc, struct buf *err)
{
	static const char exceptions[] = "smtpd_client_event_limit_exceptions";
	struct buf why = BUF_INIT;
	struct conf *stress = conf_stress_copy(sc, &why);
	struct cidr_list l;
	int r = 0;

	if (stress == NULL && why.len > 0)
		r = stagecf_fail(err, sc, "stress", "%s", buf_str(&why));
	conf_free(stress);
	buf_reset(&why);
	cidr_list_init(&l);
	if (r == 0 && mynetworks_parse(&l, conf_list(sc, exceptions), &why) < 0)
		r = stagecf_fail(err, sc, exceptions, "%s", buf_str(&why));
	cidr_list_free(&l);
	buf_free(&why);
	return r;
}

/* check_has_policy - a master.cf service that runs the policy stage. */
static int check_has_policy(const struct master_cf *m)
{
	for (size_t i = 0; i < m->nsvc; i++)
		if (strcmp(m->svc[i].command, "policy") == 0)
			return 1;
	return 0;
}

/* check_stage - the stage's own loader on its configuration. */
static int check_stage(const struct conf *sc, const struct master_cf *m,
		       const struct stagedef *def, struct buf *err)
{
	if (def->id == STAGEDEF_SMTPD) {
		struct smtpd_policy p;
		int lacks;

		/* smtpd's lists first: screen's exceptions default to $mynetworks */
		if (smtpd_policy_load(&p, sc, SMTPD_POLICY_WARN, err) < 0)
			return -1;
		lacks = smtpd_policy_endpoint(&p, NULL) && !check_has_policy(m);
		smtpd_policy_free(&p);
		if (lacks)
			return check_fail(err, "%s: check_policy_service needs the policy stage: add "
					  "\"policy unix - - y - 1 policy\" to master.cf",
					  conf_filename(sc));
		if (check_screen(sc, err) < 0)
			return -1;
	} else if (def->id == STAGEDEF_QMGR) {
		struct resolve r;

		if (routes_load(&r, sc, err) < 0)
			return -1;
		resolve_free(&r);
	} else if (def->id == STAGEDEF_CLEANUP) {
		struct canon_params cp;

		if (canon_load(&cp, sc, err) < 0)
			return -1;
		canon_free(&cp);
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
		const struct stagedef *def;
		struct conf *sc;
		int r;

		if (check_service(c, sv, &def, err) < 0 || (sc = conf_service(c, sv, err)) == NULL)
			return -1;
		r = check_stage(sc, m, def, err);
		conf_free(sc);
		if (r < 0)
			return -1;
	}
	return 0;
}

int stagecf_policy_named(const struct conf *c, const struct master_cf *m, const char *endpoint)
{
	struct buf err = BUF_INIT;
	int named = 0;

	for (size_t i = 0; i < m->nsvc && !named; i++) {
		const struct stagedef *def = stagedef_lookup(m->svc[i].command);
		struct smtpd_policy p;
		struct conf *sc;

		if (def == NULL || def->id != STAGEDEF_SMTPD
		    || (sc = conf_service(c, &m->svc[i], &err)) == NULL)
			continue;
		if (smtpd_policy_load(&p, sc, 0, &err) == 0) {
			named = smtpd_policy_endpoint(&p, endpoint);
			smtpd_policy_free(&p);
		}
		conf_free(sc);
	}
	buf_free(&err);
	return named;
}
