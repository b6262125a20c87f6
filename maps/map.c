/*
 * map.c - the type registry, opening from handed-over fds and the lookup
 * entry point (see map.h). What a spec names and needs opened is in
 * map_spec.c, which the broker links without this file.
 *
 * Called by the lookup stage (map_open with fds the broker opened) and by
 * moatmap and tests (map_open_path). This file never opens a file itself
 * except in map_open_path, which the confined stage does not call.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/xmem.h"
#include "maps/map_impl.h"

static const struct map_ops *const map_types[] = {
	&map_ops_hash, &map_ops_btree, &map_ops_texthash, &map_ops_inline, &map_ops_static,
	&map_ops_regexp, &map_ops_pcre, &map_ops_cidr, &map_ops_unionmap, &map_ops_pipemap,
};

/* The largest text table moat reads into memory (Postfix has no limit). */
#define MAP_TEXT_MAX	((size_t)1 << 30)

static const struct map_ops *map_type_find(const char *type)
{
	for (size_t i = 0; i < sizeof(map_types) / sizeof(map_types[0]); i++)
		if (strcmp(map_types[i]->type, type) == 0)
			return map_types[i];
	msg_panic("map: type %s has a kind (map_spec.c) but no implementation", type);
}

/* map_spec_parse - the implementation of spec's type; NULL and err if none. */
static const struct map_ops *map_spec_parse(const char *spec, const char *dflt_type,
					    const char **name, struct buf *err)
{
	const char *type = map_spec_type(spec, dflt_type, name, err);

	return type ? map_type_find(type) : NULL;
}

int map_fds_take(struct map_fds *fds, const char *path, struct buf *err)
{
	if (fds->next >= fds->n) {
		buf_printf(err, "%s: no file descriptor was handed over for it", path);
		return -1;
	}
	return fds->fd[fds->next++];
}

/* map_read_fd - the whole file into text; closes fd. */
static int map_read_fd(int fd, const char *path, struct buf *text, struct buf *err)
{
	int rc = 0;

	buf_init(text, MAP_TEXT_MAX);
	for (;;) {
		ssize_t got;

		if (buf_reserve(text, 65536) < 0) {
			buf_printf(err, "%s: file is larger than %zu bytes", path, MAP_TEXT_MAX);
			rc = -1;
			break;
		}
		got = read(fd, text->data + text->len, text->cap - text->len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			buf_printf(err, "%s: read: %s", path, strerror(errno));
			rc = -1;
			break;
		}
		if (got == 0)
			break;
		text->len += (size_t)got;
		text->data[text->len] = 0;
	}
	close(fd);
	return rc;
}

/* map_inline_text - "{ {line 1}, {line 2} }" as the lines of a file. */
static int map_inline_text(const char *name, struct buf *text, struct buf *err)
{
	struct buf inside = BUF_INIT, elem = BUF_INIT;
	const char *cur;
	int r;

	if (map_braced(name, &inside, err) <= 0) {
		buf_free(&inside);
		return -1;
	}
	cur = buf_str(&inside);
	while ((r = map_list_next(&cur, &elem, err)) > 0)
		if (buf_append(text, elem.data, elem.len) < 0 || buf_putc(text, '\n') < 0) {
			buf_printf(err, "%s: inline table too large", name);
			r = -1;
			break;
		}
	buf_free(&inside);
	buf_free(&elem);
	return r;
}

/* map_source - the text of a MAP_SRC_TEXT table, and what errors call it. */
static int map_source(struct map *m, struct map_fds *fds, struct buf *text, struct buf *err)
{
	int fd;

	if (m->name[strspn(m->name, " \t")] == '{') {
		m->origin = xstrdup(m->spec);
		return map_inline_text(m->name, text, err);
	}
	m->origin = xstrdup(m->name);
	if ((fd = map_fds_take(fds, m->name, err)) < 0)
		return -1;
	return map_read_fd(fd, m->name, text, err);
}

struct map *map_open_depth(const char *spec, const char *dflt_type, struct map_fds *fds,
			   unsigned flags, int depth, struct buf *err)
{
	const char *name;
	const struct map_ops *ops = map_spec_parse(spec, dflt_type, &name, err);
	struct buf text = BUF_INIT;
	struct map *m;
	int rc = 0;

	if (ops == NULL)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->ops = ops;
	m->spec = xstrdup(spec);
	m->name = xstrdup(name);
	m->dflt_type = xstrdup(dflt_type ? dflt_type : "hash");
	m->flags = flags;
	m->depth = depth;
	m->pattern = ops->pattern;
	buf_init(&m->key, MAP_LINE_MAX);
	if (ops->src == MAP_SRC_TEXT)
		rc = map_source(m, fds, &text, err);
	else
		m->origin = xstrdup(ops->src == MAP_SRC_DB ? m->name : m->spec);
	if (rc == 0)
		rc = ops->open(m, &text, fds, err);
	buf_free(&text);
	if (rc < 0) {
		m->priv = NULL;		/* open cleaned up after itself */
		map_close(m);
		return NULL;
	}
	return m;
}

struct map *map_open(const char *spec, const char *dflt_type, const int *fds, size_t nfds,
		     unsigned flags, struct buf *err)
{
	struct map_fds cur = { fds, nfds, 0 };
	struct map *m = map_open_depth(spec, dflt_type, &cur, flags, 0, err);

	if (m != NULL && cur.next != nfds) {
		buf_printf(err, "%s: %zu file descriptors handed over, %zu used", spec, nfds, cur.next);
		map_close(m);
		m = NULL;
	}
	/* What the types did not take is still ours to close. */
	for (size_t i = cur.next; i < nfds; i++)
		close(fds[i]);
	return m;
}

struct map *map_open_path(const char *spec, const char *dflt_type, unsigned flags,
			  struct buf *err)
{
	struct map_paths paths;
	struct map *m = NULL;
	int *fds;
	size_t i;

	map_paths_init(&paths);
	if (map_files(spec, dflt_type, &paths, err) < 0) {
		map_paths_free(&paths);
		return NULL;
	}
	fds = xcalloc(paths.n + 1, sizeof(*fds));
	for (i = 0; i < paths.n; i++) {
		fds[i] = open(paths.v[i], O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fds[i] < 0) {
			buf_printf(err, "open %s: %s", paths.v[i], strerror(errno));
			break;
		}
	}
	if (i == paths.n)
		m = map_open(spec, dflt_type, fds, paths.n, flags, err);
	else
		while (i-- > 0)
			close(fds[i]);
	xfree(fds);
	map_paths_free(&paths);
	return m;
}

void map_close(struct map *m)
{
	if (m == NULL)
		return;
	if (m->priv != NULL && m->ops->close != NULL)
		m->ops->close(m);
	xfree(m->spec);
	xfree(m->name);
	xfree(m->origin);
	xfree(m->dflt_type);
	buf_free(&m->key);
	xfree(m);
}

enum map_result map_lookup(struct map *m, const char *key, struct buf *value)
{
	buf_reset(value);
	if (m->ops->fold && !(m->flags & MAP_F_NOFOLD))
		key = map_fold(key, &m->key);
	return m->ops->lookup(m, key, value);
}

int map_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err)
{
	return m->ops->each(m, fn, ctx, err);
}

const char *map_spec(const struct map *m)
{
	return m->spec;
}

int map_is_pattern(const struct map *m)
{
	return m->pattern;
}
