/*
 * map_spec.c - what a table spec names, with no table code: its type, and
 * the files it needs opened (map_files).
 *
 * The broker and moatd's start-up check link only this (and map_util.o's
 * text helpers), so the root process carries no table parser, no Berkeley
 * DB and no PCRE2: it splits "type:name" and appends ".db", it never reads
 * a table. map.c looks the implementation up by the type name given here;
 * the unit test test_map_simple checks that both lists agree.
 */
#include <string.h>

#include "lib/xmem.h"
#include "maps/map_impl.h"

/* Every type moat implements, and how it finds its input; map.c has the code. */
static const struct map_kind {
	const char *type;
	enum map_src_kind src;
} map_kinds[] = {
	{ "hash", MAP_SRC_DB }, { "btree", MAP_SRC_DB }, { "texthash", MAP_SRC_TEXT },
	{ "inline", MAP_SRC_NONE }, { "static", MAP_SRC_NONE }, { "regexp", MAP_SRC_TEXT },
	{ "pcre", MAP_SRC_TEXT }, { "cidr", MAP_SRC_TEXT }, { "unionmap", MAP_SRC_NESTED },
	{ "pipemap", MAP_SRC_NESTED },
};

static const struct map_kind *map_kind_find(const char *type, size_t len)
{
	for (size_t i = 0; i < sizeof(map_kinds) / sizeof(map_kinds[0]); i++)
		if (strlen(map_kinds[i].type) == len && memcmp(map_kinds[i].type, type, len) == 0)
			return &map_kinds[i];
	return NULL;
}

int map_type_known(const char *type)
{
	return map_kind_find(type, strlen(type)) != NULL;
}

int map_type_src(const char *type)
{
	const struct map_kind *k = map_kind_find(type, strlen(type));

	return k ? (int)k->src : -1;
}

/*
 * map_spec_kind - split "type:name"; a spec without a "word:" prefix is a
 * name of the default type, as Postfix reads a bare path in a maps list.
 */
static const struct map_kind *map_spec_kind(const char *spec, const char *dflt_type,
					    const char **name, struct buf *err)
{
	size_t n = strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789_");
	const struct map_kind *k;

	if (n > 0 && spec[n] == ':') {
		*name = spec + n + 1;
		k = map_kind_find(spec, n);
		if (k == NULL)
			buf_printf(err, "%s: unsupported table type \"%.*s\"", spec, (int)n, spec);
	} else {
		if (dflt_type == NULL)
			dflt_type = "hash";
		*name = spec;
		k = map_kind_find(dflt_type, strlen(dflt_type));
		if (k == NULL)
			buf_printf(err, "%s: unsupported default_database_type \"%s\"", spec, dflt_type);
	}
	if (k != NULL && **name == 0) {
		buf_printf(err, "%s: table name is empty (need type:name)", spec);
		return NULL;
	}
	return k;
}

const char *map_spec_type(const char *spec, const char *dflt_type, const char **name,
			  struct buf *err)
{
	const struct map_kind *k = map_spec_kind(spec, dflt_type, name, err);

	return k ? k->type : NULL;
}

int map_spec_split(const char *spec, const char *dflt_type, struct buf *type, const char **name,
		   struct buf *err)
{
	const char *t = map_spec_type(spec, dflt_type, name, err);

	if (t == NULL)
		return -1;
	return buf_set_str(type, t);
}

void map_paths_init(struct map_paths *p)
{
	p->v = NULL;
	p->n = p->cap = 0;
}

void map_paths_free(struct map_paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		xfree(p->v[i]);
	xfree(p->v);
	map_paths_init(p);
}

static void map_paths_add(struct map_paths *p, const char *path, const char *suffix)
{
	struct buf b = BUF_INIT;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	(void)buf_printf(&b, "%s%s", path, suffix);	/* a path is far below the cap */
	p->v[p->n++] = buf_steal(&b);
}

static int map_nested_files(const char *spec, const char *name, const char *dflt_type,
			    struct map_paths *out, int depth, struct buf *err)
{
	struct buf inside = BUF_INIT, elem = BUF_INIT;
	const char *cur;
	int rc = 0, r;

	if (depth >= MAP_SPEC_DEPTH) {
		buf_printf(err, "%s: tables nested deeper than %d", spec, MAP_SPEC_DEPTH);
		return -1;
	}
	if ((r = map_braced(name, &inside, err)) <= 0) {
		if (r == 0)
			buf_printf(err, "%s: need {type:name, ...}", spec);
		buf_free(&inside);
		return -1;
	}
	cur = buf_str(&inside);
	while (rc == 0 && (r = map_list_next(&cur, &elem, err)) > 0)
		rc = map_files_depth(buf_str(&elem), dflt_type, out, depth + 1, err);
	if (r < 0)
		rc = -1;
	buf_free(&inside);
	buf_free(&elem);
	return rc;
}

int map_files_depth(const char *spec, const char *dflt_type, struct map_paths *out,
		    int depth, struct buf *err)
{
	const char *name;
	const struct map_kind *k = map_spec_kind(spec, dflt_type, &name, err);

	if (k == NULL)
		return -1;
	switch (k->src) {
	case MAP_SRC_NONE:
		return 0;
	case MAP_SRC_TEXT:
		if (name[strspn(name, " \t")] != '{')
			map_paths_add(out, name, "");
		return 0;
	case MAP_SRC_DB:
		if (name[strspn(name, " \t")] == '{') {
			buf_printf(err, "%s: a %s table is a file, not {...}", spec, k->type);
			return -1;
		}
		map_paths_add(out, name, ".db");
		return 0;
	case MAP_SRC_NESTED:
		return map_nested_files(spec, name, dflt_type, out, depth, err);
	}
	return -1;
}

int map_files(const char *spec, const char *dflt_type, struct map_paths *out, struct buf *err)
{
	return map_files_depth(spec, dflt_type, out, 0, err);
}

