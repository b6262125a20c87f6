/*
 * conf_priv.h - what the files of conf/ share among themselves and nobody
 * else may include: the in-memory shape of a loaded configuration, the line
 * classifier both .cf parsers use, and the value checkers.
 */
#ifndef MOAT_CONF_CONF_PRIV_H
#define MOAT_CONF_CONF_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "lib/buf.h"

/* Where a parameter's raw value came from. */
enum conf_origin { CONF_FROM_DEFAULT, CONF_FROM_MAINCF, CONF_FROM_OVERRIDE };

/* Expansion state of one value: lets a loop show up as "in progress". */
enum conf_state { CONF_ST_TODO, CONF_ST_BUSY, CONF_ST_DONE };

/* One value: a known parameter's slot, or a name main.cf defines that the
 * table does not know (admins use those as macros for $name). */
struct conf_val {
	char *raw;		/* NULL: take the default */
	char *where;		/* "main.cf:12" / "master.cf:3"; NULL for defaults */
	enum conf_origin origin;
	enum conf_state state;
	char *value;		/* expanded */
	char **list;		/* LIST/TABLES items, NULL-terminated */
	int64_t num;		/* INT/TIME(seconds)/SIZE/BOOL */
	int used;		/* an unknown name some value refers to */
};

struct conf_extra {
	char *name;
	struct conf_val v;
};

struct conf {
	char *dir;		/* from conf_load, or NULL */
	char *filename;		/* for messages: "/etc/moat/main.cf" */
	char *hostname;		/* computed default of myhostname */
	char *domain;		/* computed default of mydomain */
	struct conf_val *vals;	/* one per conf_params[] entry */
	struct conf_extra *extra;
	size_t nextra;
	char **warned;		/* unknown $names already warned about */
	size_t nwarned;
	void **graveyard;	/* old caches kept alive until conf_free */
	size_t ngrave;
};

/* Line classes of main.cf and master.cf (Postfix rules). */
enum cf_line { CF_BLANK, CF_COMMENT, CF_CONT, CF_START };

/* A physical line: [start, start+len) without the newline. */
struct cf_span {
	const char *start;
	size_t len;
};

enum cf_line cf_line_class(const char *s, size_t len);
int cf_next_line(const char *text, size_t len, size_t *pos, struct cf_span *out);
int cf_read_file(const char *path, struct buf *text, struct buf *err);
void cf_trim(const char **s, size_t *len);
typedef int (*cf_entry_fn)(void *ctx, const char *s, size_t len, size_t line, struct buf *err);
int cf_each_entry(const char *text, size_t len, const char *filename, cf_entry_fn fn,
		  void *ctx, struct buf *err);

/* conf/paramindex.c */
size_t conf_param_index(const char *name);	/* (size_t)-1 if unknown */
size_t conf_distance(const char *a, const char *b, size_t limit);

/* conf/value.c: check an expanded value against its definition. */
int conf_value_check(const struct conf_param_def *d, struct conf_val *v, struct buf *why);
int conf_value_safe(const struct conf_param_def *d, struct conf_val *v);
int conf_split_list(const char *s, char ***out, struct buf *why);
void conf_list_free(char **list);

/* conf/expand.c */
int conf_resolve(struct conf *c, struct buf *err);
void conf_cache_drop(struct conf *c, struct conf_val *v);
const char *conf_default_raw(const struct conf *c, size_t i);

/* conf/maincf.c */
struct conf *conf_new(const char *filename);
int conf_parse_text(struct conf *c, const char *text, size_t len, struct buf *err);
struct conf *conf_load_with_master(const char *dir, const char *text, size_t len,
				   const char *filename, struct buf *err);
struct conf_extra *conf_extra_find(const struct conf *c, const char *name);
void conf_warn_ignored(const char *where, const char *name);
void conf_val_set(struct conf_val *v, const char *raw, enum conf_origin origin,
		  const char *where);

#endif
