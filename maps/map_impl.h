/*
 * map_impl.h - what the table types share inside maps/; never included
 * outside maps/ (callers use map.h).
 *
 * A type is a struct map_ops: how it names its files (map_files), how it
 * builds itself from the fds it is handed, how it looks a key up. The text
 * reader and the "{ a, { b c } }" list splitter are here once, so that every
 * text type reads logical lines, comments and continuations the same way.
 */
#ifndef MOAT_MAPS_MAP_IMPL_H
#define MOAT_MAPS_MAP_IMPL_H

#include <stddef.h>

#include "lib/buf.h"
#include "maps/map.h"

/* How a type finds its input. */
enum map_src_kind {
	MAP_SRC_NONE,		/* static: no file, the name is the value */
	MAP_SRC_TEXT,		/* the named file, or "{ {line}, ... }" inline */
	MAP_SRC_DB,		/* name + ".db", Berkeley DB */
	MAP_SRC_NESTED,		/* "{ spec, spec }": members have their own files */
};

/* The fds handed to map_open, taken one at a time in map_files order. */
struct map_fds {
	const int *fd;
	size_t n, next;
};

struct map;

struct map_ops {
	const char *type;
	enum map_src_kind src;
	int pattern;		/* sees whole keys only (see map_is_pattern) */
	int fold;		/* fold keys to lower case unless MAP_F_NOFOLD */
	/* Build from the input; for MAP_SRC_TEXT text holds the whole file. */
	int (*open)(struct map *m, const struct buf *text, struct map_fds *fds, struct buf *err);
	enum map_result (*lookup)(struct map *m, const char *key, struct buf *value);
	void (*close)(struct map *m);
	/* map_each for this type (see map.h). */
	int (*each)(struct map *m, map_each_fn fn, void *ctx, struct buf *err);
};

struct map {
	const struct map_ops *ops;
	char *spec;		/* as given, for log lines */
	char *name;		/* the part after "type:" */
	char *origin;		/* what errors call the input: a path, or the spec */
	char *dflt_type;	/* default_database_type, for members of nested types */
	unsigned flags;
	int depth;		/* unionmap/pipemap nesting */
	int pattern;		/* ops->pattern, or a member's for nested types */
	void *priv;
	struct buf key;		/* scratch: the folded key */
};

extern const struct map_ops map_ops_static, map_ops_inline, map_ops_texthash,
	map_ops_hash, map_ops_btree, map_ops_regexp, map_ops_pcre, map_ops_cidr,
	map_ops_unionmap, map_ops_pipemap;

/* map_open_depth - map_open for a member of a nested table. */
struct map *map_open_depth(const char *spec, const char *dflt_type, struct map_fds *fds,
			   unsigned flags, int depth, struct buf *err);
/* map_spec_type - spec's type name (its kind table's string) and *name; NULL and err if unknown. */
const char *map_spec_type(const char *spec, const char *dflt_type, const char **name,
			  struct buf *err);
/* map_type_src - the enum map_src_kind of a type moat implements, -1 if none. */
int map_type_src(const char *type);
/* map_files_depth - map_files for a member of a nested table. */
int map_files_depth(const char *spec, const char *dflt_type, struct map_paths *out,
		    int depth, struct buf *err);
/* map_fds_take - the next handed-over fd, or -1 (and a reason) if none is left. */
int map_fds_take(struct map_fds *fds, const char *path, struct buf *err);

/*
 * Logical lines of a text table: blank lines and lines whose first
 * non-blank is '#' are skipped; a line starting with a blank continues the
 * logical line (joined without the newline, as Postfix does); a logical line
 * may not start with a blank. *lineno is the first physical line.
 */
struct map_text {
	const char *p, *end;
	int line;		/* physical lines consumed */
	const char *origin;
};

void map_text_init(struct map_text *t, const struct buf *text, const char *origin);
/* map_text_next - 1 and the next logical line, 0 at end, -1 and err if malformed. */
int map_text_next(struct map_text *t, struct buf *line, int *lineno, struct buf *err);

/*
 * map_list_next - the next element of "{ a, b c, { d e } }" (commas or
 * blanks separate; braces keep blanks and commas, their outer pair and the
 * blanks just inside it are removed). 1, 0 at end, -1 on unbalanced braces.
 */
int map_list_next(const char **cursor, struct buf *elem, struct buf *err);
/* map_braced - 1 if name is "{ ... }" (after blanks), with the inside in out. */
int map_braced(const char *name, struct buf *out, struct buf *err);

/* map_fold - key in lower case (ASCII) into out; returns out's text. */
const char *map_fold(const char *key, struct buf *out);

/* map_split_kv - "key whitespace value": key and value trimmed; -1 if no value. */
int map_split_kv(char *line, char **key, char **value);

/* map_expand - result with $1.. ${1} $(1) $$ from the match groups into out. */
struct map_groups {
	const char *subject;
	const size_t *ov;	/* start,end pairs; SIZE_MAX for unset groups */
	size_t n;		/* number of pairs */
};
int map_expand(const char *result, const struct map_groups *g, struct buf *out);
/* map_expand_check - -1 and err if result names a group above ngroups or is malformed. */
int map_expand_check(const char *result, size_t ngroups, struct buf *err);

#endif
