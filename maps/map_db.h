/*
 * map_db.h - Berkeley DB access shared by the hash/btree reader
 * (map_db.c) and the writer moatmap uses (map_db_write.c).
 */
#ifndef MOAT_MAPS_MAP_DB_H
#define MOAT_MAPS_MAP_DB_H

#include <db.h>

#include "lib/buf.h"

/* map_db_init - install the I/O function that opens "/moat-fd/N" (once). */
void map_db_init(void);
/* map_db_handle - DB->open with DB's messages in err; type DB_HASH or DB_BTREE. */
int map_db_handle(DB **dbp, const char *path, int type, u_int32_t flags, int mode,
		  struct buf *err);

#endif
