/*
 * moatmap.h - what moatmap.c and moatmap_out.c share: the options, and
 * output and -F value handling.
 */
#ifndef MOAT_TOOLS_MOATMAP_H
#define MOAT_TOOLS_MOATMAP_H

#include <stddef.h>

#include "lib/buf.h"
#include "maps/map_db_write.h"

struct moatmap {
	unsigned flags;		/* MAP_F_*: -f -N -n */
	enum map_dup dup;	/* -r -w */
	int incremental;	/* -i */
	int keep_root;		/* -o */
	int default_perms;	/* -p */
	int base64;		/* -F */
	char *dflt_type;	/* default_database_type */
};

/* moatmap_print - "key<TAB>value" (or just the value if key is NULL) on stdout;
 * with -F the value is base64-decoded first. */
void moatmap_print(const struct moatmap *mm, const char *key, const char *value, size_t vlen,
		   struct buf *scratch);
/* moatmap_files_base64 - -F: the files named in value, concatenated, in base64. */
int moatmap_files_base64(const char *value, struct buf *out, struct buf *err);
/* moatmap_lower - key in lower case (ASCII), in place. */
char *moatmap_lower(char *key);

#endif
