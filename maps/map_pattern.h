/*
 * map_pattern.h - the rule file shared by regexp:, pcre: and cidr: tables
 * (regexp_table(5), pcre_table(5), cidr_table(5)): "/re/flags result",
 * "!/re/flags result", "if /re/flags" ... "endif" (cidr: "net result",
 * "!net result", "if net"), each pattern applied to the whole key.
 *
 * The engine (POSIX regex, PCRE2, networks) is a struct map_re_engine; this
 * file parses the lines, keeps the if/endif structure and expands $n.
 */
#ifndef MOAT_MAPS_MAP_PATTERN_H
#define MOAT_MAPS_MAP_PATTERN_H

#include <stddef.h>

#include "lib/buf.h"
#include "maps/map_impl.h"

struct map_re_engine {
	const char *name;	/* "regexp", "pcre": in messages */
	/* compile - the pattern with its flag letters; the number of groups. */
	void *(*compile)(const char *re, const char *flags, size_t *ngroups, struct buf *err);
	/*
	 * match - 1 and group offsets (start,end pairs, SIZE_MAX unset; at most
	 * nov pairs) if the whole key matches, 0 if not, -1 and a reason in
	 * err if the engine gave up (a limit), MAP_RE_NEVER if the key is of a
	 * kind no rule can match (cidr: not an address; "!" rules included).
	 */
	int (*match)(void *re, const char *key, size_t *ov, size_t nov, struct buf *err);
	void (*free)(void *re);
	/* split - the pattern at p ("!" in front negates); NULL: /re/flags. */
	int (*split)(char *p, int *negate, char **re, char **flags, char **rest, struct buf *err);
	int expand;		/* results expand $1.. (regexp, pcre; not cidr) */
};

#define MAP_RE_NEVER	(-2)

int map_pattern_open(struct map *m, const struct buf *text, const struct map_re_engine *eng,
		     struct buf *err);
enum map_result map_pattern_lookup(struct map *m, const char *key, struct buf *value);
void map_pattern_close(struct map *m);
int map_pattern_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err);

#endif
