/*
 * map_nested.c - unionmap:{ a, b, ... } (the comma-joined results of every
 * member that has the key) and pipemap:{ a, b, ... } (each member's result
 * is the next member's key), as Postfix 3.0 defines them.
 *
 * A member that fails makes the whole lookup fail: a union that silently
 * dropped a broken member would answer as if the key were absent.
 */
#include "lib/xmem.h"
#include "maps/map_impl.h"

struct map_nested {
	struct map **member;
	size_t n;
};

static void map_nested_close(struct map *m)
{
	struct map_nested *t = m->priv;

	for (size_t i = 0; i < t->n; i++)
		map_close(t->member[i]);
	xfree(t->member);
	xfree(t);
}

static int map_nested_members(struct map *m, struct map_nested *t, struct map_fds *fds,
			      struct buf *err)
{
	struct buf inside = BUF_INIT, elem = BUF_INIT;
	const char *cur;
	int r;

	if (m->depth + 1 >= MAP_SPEC_DEPTH) {
		buf_printf(err, "%s: tables nested deeper than %d", m->spec, MAP_SPEC_DEPTH);
		return -1;
	}
	if ((r = map_braced(m->name, &inside, err)) == 0) {
		buf_printf(err, "%s: need %s:{type:name, ...}", m->spec, m->ops->type);
		r = -1;
	}
	cur = buf_str(&inside);
	while (r > 0 && (r = map_list_next(&cur, &elem, err)) > 0) {
		struct map *sub = map_open_depth(buf_str(&elem), m->dflt_type, fds, m->flags,
						 m->depth + 1, err);

		if (sub == NULL) {
			r = -1;
			break;
		}
		t->member = xreallocarray(t->member, t->n + 1, sizeof(*t->member));
		t->member[t->n++] = sub;
	}
	buf_free(&inside);
	buf_free(&elem);
	return r;
}

static int map_nested_open(struct map *m, const struct buf *text, struct map_fds *fds,
			   struct buf *err)
{
	struct map_nested *t = xcalloc(1, sizeof(*t));
	size_t need = m->ops == &map_ops_pipemap ? 2 : 1;

	(void)text;
	m->priv = t;
	if (map_nested_members(m, t, fds, err) < 0)
		goto fail;
	if (t->n < need) {
		buf_printf(err, "%s: need at least %zu table%s", m->spec, need, need > 1 ? "s" : "");
		goto fail;
	}
	for (size_t i = 0; i < t->n; i++)
		if (map_is_pattern(t->member[i]) && (i == 0 || m->ops == &map_ops_unionmap))
			m->pattern = 1;
	return 0;
fail:
	map_nested_close(m);
	m->priv = NULL;
	return -1;
}

static enum map_result map_union_lookup(struct map *m, const char *key, struct buf *value)
{
	struct map_nested *t = m->priv;
	struct buf one = BUF_INIT;
	enum map_result res = MAP_NOTFOUND;

	for (size_t i = 0; i < t->n && res != MAP_FAIL; i++) {
		enum map_result r = map_lookup(t->member[i], key, &one);

		if (r == MAP_FAIL) {
			res = MAP_FAIL;
		} else if (r == MAP_FOUND) {
			if ((res == MAP_FOUND && buf_putc(value, ',') < 0) ||
			    buf_append(value, one.data, one.len) < 0 || value->len > MAP_VALUE_MAX)
				res = MAP_FAIL;
			else
				res = MAP_FOUND;
		}
	}
	buf_free(&one);
	return res;
}

static enum map_result map_pipe_lookup(struct map *m, const char *key, struct buf *value)
{
	struct map_nested *t = m->priv;
	struct buf in = BUF_INIT;
	enum map_result r = MAP_NOTFOUND;

	if (buf_set_str(&in, key) < 0) {
		buf_free(&in);
		return MAP_FAIL;
	}
	for (size_t i = 0; i < t->n; i++) {
		r = map_lookup(t->member[i], buf_str(&in), value);
		if (r != MAP_FOUND)
			break;
		if (i + 1 < t->n && buf_set(&in, value->data, value->len) < 0)
			r = MAP_FAIL;
	}
	buf_free(&in);
	if (r != MAP_FOUND)
		buf_reset(value);
	return r;
}

/* A union's results are its members'; a pipe's are its last member's. */
static int map_nested_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err)
{
	struct map_nested *t = m->priv;
	size_t first = m->ops == &map_ops_pipemap ? t->n - 1 : 0;
	int r = 0;

	for (size_t i = first; i < t->n && r == 0; i++)
		r = map_each(t->member[i], fn, ctx, err);
	return r;
}

const struct map_ops map_ops_unionmap = {
	"unionmap", MAP_SRC_NESTED, 0, 0, map_nested_open, map_union_lookup, map_nested_close,
	map_nested_each,
};

const struct map_ops map_ops_pipemap = {
	"pipemap", MAP_SRC_NESTED, 0, 0, map_nested_open, map_pipe_lookup, map_nested_close,
	map_nested_each,
};
