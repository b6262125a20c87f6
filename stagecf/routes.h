/*
 * routes.h - where qmgr sends mail (mail/resolve.c) from main.cf, with the
 * file and line of a bad value: used by qmgr and by moatd's start-up check.
 */
#ifndef MOAT_STAGECF_ROUTES_H
#define MOAT_STAGECF_ROUTES_H

#include "conf/conf.h"
#include "mail/resolve.h"

/* routes_load - resolve_init from c; -1 and "where: reason" in err. */
int routes_load(struct resolve *r, const struct conf *c, struct buf *err);

#endif
