/*
 * map_db_write.h - building and changing hash:/btree: files, for moatmap.
 *
 * A .db is never changed where a running reader can see it half done: the
 * writer works on a temporary file next to it (a copy of the old table for
 * -i and -d), fsyncs it, renames it over the old name and fsyncs the
 * directory, so a reader sees the old table or the new one.
 */
#ifndef MOAT_MAPS_MAP_DB_WRITE_H
#define MOAT_MAPS_MAP_DB_WRITE_H

#include <sys/types.h>

#include "lib/buf.h"

enum map_dup { MAP_DUP_WARN, MAP_DUP_REPLACE, MAP_DUP_IGNORE };

struct map_db_writer {
	void *db;		/* DB * */
	char *path;		/* the .db a reader opens */
	char *tmp;		/* where the new one is built */
	int nul;		/* write keys and values with their NUL */
};

/*
 * map_db_write_begin - start a new table (copy 0) or a changed copy of the
 * existing one (copy 1; a missing file starts empty). type is "hash" or
 * "btree"; mode the new file's permissions.
 */
int map_db_write_begin(struct map_db_writer *w, const char *type, const char *path,
		       int copy, int nul, mode_t mode, struct buf *err);
/* map_db_write_put - 0 stored (MAP_DUP_REPLACE: over an old value), 1 the key
 * was already there and keeps its old value (MAP_DUP_WARN, _IGNORE), -1. */
int map_db_write_put(struct map_db_writer *w, const char *key, const char *value,
		     enum map_dup dup, struct buf *err);
/* map_db_write_del - 0 deleted, 1 not there, -1 error. Both NUL forms go. */
int map_db_write_del(struct map_db_writer *w, const char *key, struct buf *err);
/* map_db_write_commit - make it durable and replace the old file; 0 or -1. */
int map_db_write_commit(struct map_db_writer *w, struct buf *err);
/* map_db_write_abort - drop the temporary file (after an error). */
void map_db_write_abort(struct map_db_writer *w);

/*
 * map_text_pairs - each "key whitespace value" line of a postmap source
 * text (comments, continuations as texthash reads them); fn returns 0 to go
 * on. -1 and err naming origin and line at the first malformed line.
 */
int map_text_pairs(const struct buf *text, const char *origin,
		   int (*fn)(char *key, char *value, int line, void *ctx), void *ctx,
		   struct buf *err);

/* map_db_dump - call fn for each entry of a .db (NUL stripped); 0 or -1. */
int map_db_dump(const char *type, const char *path,
		void (*fn)(const char *key, size_t klen, const char *value, size_t vlen, void *ctx),
		void *ctx, struct buf *err);

#endif
