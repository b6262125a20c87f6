/*
 * tablecheck.c - moatd refuses a configuration whose tables cannot be read
 * or parsed, before it forks any stage (start-up) or retires any (reload).
 *
 * The broker must not parse tables, so the check is the lookup program
 * itself, run once with STAGE_START_CHECK (skeleton/stage_check.c): same
 * argv, same fds, same sandbox as the real stage. Its error lines become
 * the reason the configuration is refused. Stages whose settings only
 * their own libraries can judge (STAGEDEF_F_CHECKED: smtp's and smtpd's TLS
 * protocols, ciphers, certificates and CA files, which OpenSSL reads and
 * moatd does not link) get
 * the same check run, once per master.cf service with its -o overrides.
 * TLS private keys get the tlskey program's check run over the files the
 * broker would hand it, so an unreadable or keyless file stops start-up.
 */
#include <string.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/fdplace.h"
#include "lib/xmem.h"
#include "skeleton/stage.h"
#include "skeleton/stage_launch.h"

/* check_service - the master.cf service that runs a stage with this flag, or NULL. */
static const struct master_service *check_service(const struct master_cf *m, unsigned flag)
{
	for (size_t i = 0; i < m->nsvc; i++) {
		const struct stagedef *d = stagedef_lookup(m->svc[i].command);

		if (d && (d->flags & flag))
			return &m->svc[i];
	}
	return NULL;
}

/*
 * check_run - one check run by sv's program with the files it would get:
 * t's tables, or (t NULL) the TLS key files of c and m; 0, or -1 and err.
 */
static int check_run(struct broker *b, const struct conf *c, const struct master_cf *m,
		     const struct master_service *sv, const struct stagecf_tables *t, struct buf *err)
{
	int fds[FDPLACE_MAX], r, max = FDPLACE_MAX - STAGE_FD_EXTRA;
	struct stage_check run = { .daemon_dir = conf_str(c, "daemon_directory"),
				   .confdir = b->confdir, .service = sv->name, .stage = sv->command,
				   .overrides = sv->overrides, .extra = fds, .devnull = b->devnull };

	if ((t ? broker_tables_open(t, fds, &run.nextra, max, &run.args, err)
	     : stagecf_tls_keys_open(c, m, fds, &run.nextra, max, &run.args, err)) < 0)
		return -1;
	r = stage_check_run(&run, err);
	broker_tables_close(fds, run.nextra, run.args);
	return r;
}

/* checked_services - a check run of each CHECKED stage's service; 0, or -1 and err. */
static int checked_services(struct broker *b, const struct conf *c, const struct master_cf *m,
			    struct buf *err)
{
	for (size_t i = 0; i < m->nsvc; i++) {
		const struct master_service *sv = &m->svc[i];
		const struct stagedef *d = stagedef_lookup(sv->command);
		struct stage_check run = { .daemon_dir = conf_str(c, "daemon_directory"),
					   .confdir = b->confdir, .service = sv->name,
					   .stage = sv->command, .overrides = sv->overrides,
					   .devnull = b->devnull };

		if (d && (d->flags & STAGEDEF_F_CHECKED) && !master_service_disabled(c, sv)
		    && stage_check_run(&run, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * keys_check - TLS private keys named: a tlskey service must hold them,
 * and each file must open and hold a usable key (its check run); 0, or
 * -1 and err naming where the key was named.
 */
static int keys_check(struct broker *b, const struct conf *c, const struct master_cf *m,
		      struct buf *err)
{
	char **keys = stagecf_tls_key_files(c, m, err);
	const struct master_service *sv = check_service(m, STAGEDEF_F_KEYS);
	int r = 0;

	if (keys == NULL)
		return -1;
	if (keys[0] && (sv == NULL || master_service_disabled(c, sv))) {
		char *nl = strchr(keys[0], '\n');

		(void)buf_printf(err, "%.*s: master.cf runs no tlskey service to hold the key %s",
				 (int)(nl - keys[0]), keys[0], nl + 1);
		r = -1;
	} else if (keys[0]) {
		r = check_run(b, c, m, sv, NULL, err);
	}
	for (char **k = keys; *k; k++)
		xfree(*k);
	xfree(keys);
	return r;
}

/*
 * broker_tables_check - the tables c and m name, into out, checked by a
 * run of the lookup program. -1 and err (out empty) if one cannot be opened
 * or parsed, or if tables are named and no master.cf service serves them.
 */
int broker_tables_check(struct broker *b, const struct conf *c, const struct master_cf *m,
			struct stagecf_tables *out, struct buf *err)
{
	const struct master_service *sv = check_service(m, STAGEDEF_F_TABLES);

	if (stagecf_tables_collect(c, m, out, err) < 0)
		return -1;
	if (out->n > 0 && sv == NULL) {
		(void)buf_printf(err, "%s: table %s: master.cf runs no lookup service to serve it",
				 out->v[0].where, out->v[0].spec);
	} else if ((out->n == 0 || check_run(b, c, m, sv, out, err) == 0)
		   && checked_services(b, c, m, err) == 0 && keys_check(b, c, m, err) == 0) {
		return 0;
	}
	stagecf_tables_free(out);
	return -1;
}
