/*
 * check.h - moatd's start-up (and reload) check of the whole configuration.
 */
#ifndef MOAT_STAGECF_CHECK_H
#define MOAT_STAGECF_CHECK_H

#include "conf/conf.h"
#include "lib/buf.h"

/*
 * stagecf_check - each master.cf service's configuration, as its stage will
 * read it (main.cf, then service_name, process_name and its -o overrides),
 * through that stage's own loader: smtpd's restriction lists, networks and
 * domains, qmgr's routes. 0, or -1 and "file:line: parameter name: reason"
 * in err for the first problem. It forks nothing and opens no socket, so it
 * runs before moatd starts anything and again on reload.
 */
int stagecf_check(const struct conf *c, const struct master_cf *m, struct buf *err);

/*
 * stagecf_policy_named - 1 if some smtpd service's restrictions (lists or
 * classes, with its -o overrides) name this check_policy_service endpoint:
 * the only endpoints the broker connects the policy stage to.
 */
int stagecf_policy_named(const struct conf *c, const struct master_cf *m, const char *endpoint);

#endif
