/*
 * map.h - Postfix-compatible lookup tables ("type:name") for moat.
 *
 * A table is named by a spec as Postfix writes it: hash:/etc/moat/transport,
 * pcre:/etc/moat/header_checks, inline:{ a=b, c=d }, static:OK,
 * unionmap:{ hash:/a, cidr:/b }, pipemap:{ ... }. A spec without "type:" is
 * a path of the default type (default_database_type, "hash" if NULL).
 *
 * Files are opened by someone else. The stage that reads tables runs in an
 * empty chroot without open(): the broker asks map_files() which paths a
 * spec needs (for hash:/x that is /x.db; for text types the path itself;
 * the members of unionmap/pipemap recursively; none for static and inline),
 * opens each read-only and hands the fds over; map_open() builds the table
 * from those fds in the same order. Tools and tests open the files
 * themselves and call the same function, so there is one parser.
 *
 * map_open() takes ownership of every fd it is given, on success and on
 * failure. Errors name the file and line: "/etc/moat/access, line 3: ...".
 *
 * Lookups return MAP_FOUND, MAP_NOTFOUND or MAP_FAIL. MAP_FAIL is a table
 * error (a corrupt .db, a pcre pattern that hit its match limit): callers
 * treat it as "try again later", as Postfix does with DICT_ERR. The reason
 * has been logged with msg_warn, naming the file (and line for patterns).
 *
 * Keys are matched as Postfix matches them for the type: indexed tables
 * (hash, btree, texthash, inline) fold the key to lower case unless
 * MAP_F_NOFOLD; regexp and pcre match the whole key, case-insensitively by
 * default (per pattern flags), and expand $1.. in the result; cidr matches
 * an address; static returns its value for any key.
 */
#ifndef MOAT_MAPS_MAP_H
#define MOAT_MAPS_MAP_H

#include <stddef.h>

#include "lib/buf.h"

enum map_result {
	MAP_FAIL = -1,		/* table error: try again later */
	MAP_FOUND = 0,
	MAP_NOTFOUND = 1,
};

/* map_open flags */
#define MAP_F_NOFOLD	(1u << 0)	/* keep key case (postmap -f) */
#define MAP_F_NUL	(1u << 1)	/* db keys carry a trailing NUL only (-N) */
#define MAP_F_NONUL	(1u << 2)	/* db keys carry no trailing NUL (-n) */

/* Hard caps on what a table may hold, so a huge file cannot exhaust memory. */
#define MAP_VALUE_MAX	((size_t)1 << 20)	/* one result (after $n expansion) */
#define MAP_LINE_MAX	((size_t)1 << 20)	/* one logical line of a text table */
#define MAP_SPEC_DEPTH	8			/* unionmap/pipemap nesting */

/* PCRE2 limits: a pattern chosen to backtrack catastrophically stops here. */
#define MAP_PCRE_MATCH_LIMIT	1000000u
#define MAP_PCRE_DEPTH_LIMIT	10000u
#define MAP_PCRE_HEAP_LIMIT_KB	20000u

struct map;

/* The list of paths a spec needs opened, in the order map_open wants fds. */
struct map_paths {
	char **v;
	size_t n, cap;
};

void map_paths_init(struct map_paths *p);
void map_paths_free(struct map_paths *p);

/*
 * map_files - append to out the paths spec needs opened (read-only). -1 and
 * a reason in err if the spec is malformed or names an unknown type.
 * dflt_type is default_database_type (NULL means "hash").
 */
int map_files(const char *spec, const char *dflt_type, struct map_paths *out, struct buf *err);

/*
 * map_open - build the table spec from fds (one per path of map_files, same
 * order). Takes ownership of the fds. NULL and a reason naming file and line
 * in err on any error: a table that is wrong is never half loaded.
 */
struct map *map_open(const char *spec, const char *dflt_type, const int *fds, size_t nfds,
		     unsigned flags, struct buf *err);

/* map_open_path - the same, opening the files itself (tools, tests). */
struct map *map_open_path(const char *spec, const char *dflt_type, unsigned flags,
			  struct buf *err);

void map_close(struct map *m);

/* map_lookup - the value for key into value (replaced). */
enum map_result map_lookup(struct map *m, const char *key, struct buf *value);

/*
 * map_each - fn(ctx, where, value) for every result the table can give:
 * each entry of hash/btree/texthash/inline, each rule of regexp/pcre/cidr
 * (the result as written, $n not expanded), the value of static, every
 * member of a unionmap and the last member of a pipemap. where names the
 * entry ("/etc/moat/header_checks, line 3", "/etc/moat/access.db: key
 * \"x\""). A non-zero fn stops the walk and is returned; -1 and err if the
 * table cannot be read. Start-up checks use it to refuse an action moat
 * cannot honour before any mail meets it.
 */
typedef int (*map_each_fn)(void *ctx, const char *where, const char *value);
int map_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err);

/* map_spec - the spec the table was opened with, for log lines. */
const char *map_spec(const struct map *m);

/*
 * map_is_pattern - 1 for tables that see only whole keys (regexp, pcre,
 * cidr, and unions/pipes that contain one): Postfix skips the partial keys
 * of the address and domain lookup orders for them (see map_keys.h).
 */
int map_is_pattern(const struct map *m);

/*
 * map_spec_split - the type of spec (default_database_type for a bare path)
 * into type, and where its name starts; -1 and err for an unknown type.
 */
int map_spec_split(const char *spec, const char *dflt_type, struct buf *type, const char **name,
		   struct buf *err);

/* map_type_known - 1 if type (without ':') is a table type moat implements. */
int map_type_known(const char *type);

#endif
