/*
 * lookup.h - what the files of the lookup stage share: the tables it holds.
 */
#ifndef MOAT_DAEMONS_LOOKUP_LOOKUP_H
#define MOAT_DAEMONS_LOOKUP_LOOKUP_H

#include <stddef.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "maps/map.h"
#include "skeleton/stage.h"

struct lookup_table {
	char *spec;		/* as the configuration writes it; what clients name */
	char *where;		/* "main.cf:12: transport_maps" */
	struct map *map;	/* NULL: it could not be opened; lookups in it fail */
};

/* One table file as it was handed over (lookup_watch.c). */
struct lookup_watch {
	int fd;			/* a duplicate, kept for fstat */
	size_t table;		/* index in lookup_tables.v */
	struct stat st;
};

struct lookup_tables {
	struct lookup_table *v;
	size_t n;
	size_t broken;		/* how many have map == NULL */
	struct lookup_watch *watch;
	size_t nwatch;
};

/* lookup_tables_open - every table the broker handed over (-a args, fds
 * from STAGE_FD_EXTRA); each error is logged with the table's file and
 * line and the place that names it. */
void lookup_tables_open(struct stage *st, struct lookup_tables *t);
/* lookup_table_find - the table clients call spec, or NULL. */
struct lookup_table *lookup_table_find(struct lookup_tables *t, const char *spec);

/* lookup_tables_refuse - log (file and line) each answer of an action
 * table that moat cannot honour (FILTER); how many there are. */
size_t lookup_tables_refuse(struct lookup_tables *t);
/* lookup_watch_add - watch fd, a file of table number `table` (before map_open takes it). */
void lookup_watch_add(struct lookup_tables *t, size_t table, int fd);
/* lookup_watch_changed - the spec of a table whose file changed on disk, or NULL. */
const char *lookup_watch_changed(const struct lookup_tables *t);

struct ipc_lookup_query;
/* lookup_query_answer - a LOOKUP_* status, with value and matched key for
 * LOOKUP_FOUND; for LOOKUP_NOTABLE *missing points at the unknown spec. */
int lookup_query_answer(struct lookup_tables *t, const struct ipc_lookup_query *q,
			struct buf *value, struct buf *matched, const char **missing);

#endif
