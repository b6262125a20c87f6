/*
 * tables.h - every lookup table the configuration names, and where.
 *
 * The lookup stage serves exactly these tables; the broker opens their
 * files (it asks maps/ which files a spec needs, and never reads one) and
 * runs the lookup program once in check mode before it starts anything, so
 * that a table that cannot be read or parsed stops moatd with the table's
 * file and line and the main.cf line that names it.
 *
 * A spec is named by: every table parameter (CONF_TABLES) that moat
 * implements, in main.cf and in each master.cf service's -o overrides; and
 * every "type:name" that follows a check_*_access restriction in the
 * smtpd_*_restrictions lists. Unimplemented table parameters are left out:
 * their values are not used (and a fail-closed one stops the load first).
 */
#ifndef MOAT_STAGECF_TABLES_H
#define MOAT_STAGECF_TABLES_H

#include <stddef.h>

#include "conf/conf.h"
#include "lib/buf.h"

struct stagecf_table {
	char *spec;		/* as the configuration writes it: "hash:/etc/moat/access" */
	char *where;		/* "main.cf:12: transport_maps", the first place that names it */
};

struct stagecf_tables {
	struct stagecf_table *v;
	size_t n;
};

/* stagecf_tables_collect - every spec main.cf and master.cf name, once each, in order. */
int stagecf_tables_collect(const struct conf *c, const struct master_cf *m,
			   struct stagecf_tables *out, struct buf *err);
void stagecf_tables_free(struct stagecf_tables *t);

/* stagecf_tables_add - append spec with where; a spec already there gets
 * where appended to its own (", "-separated), so each table knows every
 * parameter that names it. */
void stagecf_tables_add(struct stagecf_tables *t, const char *spec, const char *where);

/*
 * stagecf_restriction_tables - the tables a restriction list names: the
 * item after each check_<what>_access (and its _a_, _mx_, _ns_ forms, e.g.
 * check_client_a_access, check_sender_mx_access) when it looks like
 * type:name. Adds them to out with where.
 */
void stagecf_restriction_tables(char *const *items, const char *where, struct stagecf_tables *out);

#endif
