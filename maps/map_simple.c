/*
 * map_simple.c - the table types that live in memory as key/value pairs:
 * static:value, inline:{ key=value, { key = text } } and texthash:/file
 * (the postmap input format read directly, no .db).
 *
 * texthash refuses a line without a value with file and line (postmap
 * only warns and skips it: an access table with a lost line must not start);
 * a duplicate key is a warning and the first value stays, as in Postfix.
 */
#include <string.h>

#include "lib/msg.h"
#include "lib/xmem.h"
#include "maps/map_htab.h"
#include "maps/map_impl.h"

static int map_static_open(struct map *m, const struct buf *text, struct map_fds *fds,
			   struct buf *err)
{
	struct buf value = BUF_INIT;
	int r = map_braced(m->name, &value, err);

	(void)text;
	(void)fds;
	if (r >= 0)
		m->priv = xstrdup(r > 0 ? buf_str(&value) : m->name);
	buf_free(&value);
	return r < 0 ? -1 : 0;
}

static enum map_result map_static_lookup(struct map *m, const char *key, struct buf *value)
{
	(void)key;
	return buf_set_str(value, m->priv) < 0 ? MAP_FAIL : MAP_FOUND;
}

static void map_priv_free(struct map *m)
{
	xfree(m->priv);
}

static int map_static_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err)
{
	(void)err;
	return fn(ctx, m->spec, m->priv);
}

const struct map_ops map_ops_static = {
	"static", MAP_SRC_NONE, 0, 0, map_static_open, map_static_lookup, map_priv_free,
	map_static_each,
};

static void map_htab_close(struct map *m)
{
	map_htab_free(m->priv);
	xfree(m->priv);
}

static void map_add_pair(struct map *m, struct map_htab *h, const char *key,
			 const char *value, int line)
{
	if (m->ops->fold && !(m->flags & MAP_F_NOFOLD))
		key = map_fold(key, &m->key);
	if (map_htab_add(h, key, value) == 0)
		return;
	if (line > 0)
		msg_warn("%s, line %d: duplicate entry: \"%s\"", m->origin, line, key);
	else
		msg_warn("%s: duplicate entry: \"%s\"", m->origin, key);
}

/* map_htab_keep - the table becomes the map's if loading went well (r >= 0). */
static int map_htab_keep(struct map *m, struct map_htab *h, int r)
{
	if (r < 0) {
		map_htab_free(h);
		xfree(h);
		return -1;
	}
	m->priv = h;
	return 0;
}

static int map_texthash_open(struct map *m, const struct buf *text, struct map_fds *fds,
			     struct buf *err)
{
	struct map_htab *h = xmalloc(sizeof(*h));
	struct buf line = BUF_INIT;
	struct map_text t;
	int r, lineno = 0;

	(void)fds;
	map_htab_init(h);
	map_text_init(&t, text, m->origin);
	while ((r = map_text_next(&t, &line, &lineno, err)) > 0) {
		char *key, *value;

		if (map_split_kv(line.data, &key, &value) < 0) {
			buf_printf(err, "%s, line %d: expected format: key whitespace value",
				   m->origin, lineno);
			r = -1;
			break;
		}
		map_add_pair(m, h, key, value, lineno);
	}
	buf_free(&line);
	return map_htab_keep(m, h, r);
}

static enum map_result map_htab_lookup(struct map *m, const char *key, struct buf *value)
{
	const char *v = map_htab_get(m->priv, key);

	if (v == NULL)
		return MAP_NOTFOUND;
	return buf_set_str(value, v) < 0 ? MAP_FAIL : MAP_FOUND;
}

static int map_htab_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err)
{
	const struct map_htab *h = m->priv;
	struct buf where = BUF_INIT;
	int r = 0;

	(void)err;
	for (size_t i = 0; i < h->cap && r == 0; i++) {
		if (h->slot[i].key == NULL)
			continue;
		buf_reset(&where);
		(void)buf_printf(&where, "%s: key \"%s\"", m->origin, h->slot[i].key);
		r = fn(ctx, buf_str(&where), h->slot[i].value);
	}
	buf_free(&where);
	return r;
}

const struct map_ops map_ops_texthash = {
	"texthash", MAP_SRC_TEXT, 0, 1, map_texthash_open, map_htab_lookup, map_htab_close,
	map_htab_each,
};

/* map_inline_pair - one "key=value" element, blanks around both trimmed. */
static int map_inline_pair(struct map *m, struct map_htab *h, char *elem, struct buf *err)
{
	char *eq = strchr(elem, '='), *key = elem, *value, *e;

	if (eq == NULL) {
		buf_printf(err, "%s: \"%s\": need key=value", m->spec, elem);
		return -1;
	}
	*eq = 0;
	value = eq + 1;
	for (e = eq; e > key && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = 0;
	value += strspn(value, " \t");
	for (e = value + strlen(value); e > value && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = 0;
	key += strspn(key, " \t");
	if (*key == 0) {
		buf_printf(err, "%s: empty key in \"%s=%s\"", m->spec, key, value);
		return -1;
	}
	map_add_pair(m, h, key, value, 0);
	return 0;
}

static int map_inline_open(struct map *m, const struct buf *text, struct map_fds *fds,
			   struct buf *err)
{
	struct buf inside = BUF_INIT, elem = BUF_INIT;
	struct map_htab *h = xmalloc(sizeof(*h));
	const char *cur;
	int r;

	(void)text;
	(void)fds;
	map_htab_init(h);
	r = map_braced(m->name, &inside, err);
	if (r == 0) {
		buf_printf(err, "%s: need inline:{ key=value, ... }", m->spec);
		r = -1;
	}
	cur = buf_str(&inside);
	while (r > 0 && (r = map_list_next(&cur, &elem, err)) > 0)
		if (map_inline_pair(m, h, elem.data ? elem.data : (char *)"", err) < 0)
			r = -1;
	buf_free(&inside);
	buf_free(&elem);
	return map_htab_keep(m, h, r);
}

const struct map_ops map_ops_inline = {
	"inline", MAP_SRC_NONE, 0, 1, map_inline_open, map_htab_lookup, map_htab_close,
	map_htab_each,
};
