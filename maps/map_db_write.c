/*
 * map_db_write.c - build, change and dump Berkeley DB tables (moatmap's
 * side; see map_db_write.h). Never linked into a stage that only reads.
 *
 * Keys and values are written with their trailing NUL unless asked not to
 * (postmap -n): that is what Debian's postmap writes on Linux, so a table
 * built here reads the same with postmap -q and the other way round.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/xmem.h"
#include "maps/map_db.h"
#include "maps/map_db_write.h"
#include "maps/map_impl.h"

static int map_db_type(const char *type)
{
	return strcmp(type, "btree") == 0 ? DB_BTREE : DB_HASH;
}

/* map_db_copy - the old table's bytes into the new temporary file. */
static int map_db_copy(const char *from, const char *to, mode_t mode, struct buf *err)
{
	char chunk[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;
	ssize_t n;

	if (in < 0) {
		if (errno == ENOENT)
			return 0;
		buf_printf(err, "open %s: %s", from, strerror(errno));
		return -1;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0) {
		buf_printf(err, "create %s: %s", to, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || iox_write_full(out, chunk, (size_t)n) < 0) {
			buf_printf(err, "copy %s: %s", from, strerror(errno));
			rc = -1;
			break;
		}
	}
	close(in);
	if (close(out) < 0 && rc == 0) {
		buf_printf(err, "close %s: %s", to, strerror(errno));
		rc = -1;
	}
	return rc;
}

int map_db_write_begin(struct map_db_writer *w, const char *type, const char *path,
		       int copy, int nul, mode_t mode, struct buf *err)
{
	struct buf tmp = BUF_INIT;
	DB *db;

	(void)buf_printf(&tmp, "%s.moatmap-%ld", path, (long)getpid());
	w->path = xstrdup(path);
	w->tmp = buf_steal(&tmp);
	w->nul = nul;
	w->db = NULL;
	(void)unlink(w->tmp);	/* a leftover of an earlier run of this pid */
	if (copy && map_db_copy(path, w->tmp, mode, err) < 0)
		goto fail;
	if (map_db_handle(&db, w->tmp, map_db_type(type), DB_CREATE, (int)mode, err) < 0)
		goto fail;
	w->db = db;
	if (chmod(w->tmp, mode) < 0) {	/* DB honours the umask */
		buf_printf(err, "chmod %s: %s", w->tmp, strerror(errno));
		map_db_write_abort(w);
		return -1;
	}
	return 0;
fail:
	map_db_write_abort(w);
	return -1;
}

static void map_dbt(DBT *d, const char *s, int nul)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)s;
	d->size = (u_int32_t)(strlen(s) + (nul ? 1 : 0));
}

int map_db_write_put(struct map_db_writer *w, const char *key, const char *value,
		     enum map_dup dup, struct buf *err)
{
	DB *db = w->db;
	DBT k, v;
	int r;

	map_dbt(&k, key, w->nul);
	map_dbt(&v, value, w->nul);
	r = db->put(db, NULL, &k, &v, dup == MAP_DUP_REPLACE ? 0 : DB_NOOVERWRITE);
	if (r == DB_KEYEXIST)
		return 1;
	if (r != 0) {
		buf_printf(err, "%s: put \"%s\": %s", w->tmp, key, db_strerror(r));
		return -1;
	}
	return 0;
}

int map_db_write_del(struct map_db_writer *w, const char *key, struct buf *err)
{
	DB *db = w->db;
	int found = 0;

	for (int nul = 1; nul >= 0; nul--) {
		DBT k;
		int r;

		map_dbt(&k, key, nul);
		r = db->del(db, NULL, &k, 0);
		if (r == 0)
			found = 1;
		else if (r != DB_NOTFOUND) {
			buf_printf(err, "%s: delete \"%s\": %s", w->tmp, key, db_strerror(r));
			return -1;
		}
	}
	return found ? 0 : 1;
}

int map_db_write_commit(struct map_db_writer *w, struct buf *err)
{
	DB *db = w->db;
	char *dir = xstrdup(w->path);
	int fd, r, rc = -1;

	if ((r = db->sync(db, 0)) != 0 || (r = db->fd(db, &fd)) != 0) {
		buf_printf(err, "%s: %s", w->tmp, db_strerror(r));
	} else if (fsync(fd) < 0) {
		buf_printf(err, "fsync %s: %s", w->tmp, strerror(errno));
	} else if ((r = db->close(db, 0)) != 0) {
		w->db = NULL;
		buf_printf(err, "%s: close: %s", w->tmp, db_strerror(r));
	} else {
		w->db = NULL;
		if (rename(w->tmp, w->path) < 0)
			buf_printf(err, "rename %s to %s: %s", w->tmp, w->path, strerror(errno));
		else if (iox_fsync_dirat(AT_FDCWD, dirname(dir)) < 0)
			buf_printf(err, "fsync directory of %s: %s", w->path, strerror(errno));
		else
			rc = 0;
	}
	xfree(dir);
	if (rc < 0)
		map_db_write_abort(w);
	else {
		xfree(w->path);
		xfree(w->tmp);
	}
	return rc;
}

void map_db_write_abort(struct map_db_writer *w)
{
	DB *db = w->db;

	if (db != NULL)
		db->close(db, DB_NOSYNC);
	w->db = NULL;
	if (w->tmp != NULL)
		(void)unlink(w->tmp);
	xfree(w->path);
	xfree(w->tmp);
	w->path = w->tmp = NULL;
}

static size_t map_db_strip(const DBT *d)
{
	size_t n = d->size;

	return n > 0 && ((const char *)d->data)[n - 1] == 0 ? n - 1 : n;
}

int map_db_dump(const char *type, const char *path,
		void (*fn)(const char *key, size_t klen, const char *value, size_t vlen, void *ctx),
		void *ctx, struct buf *err)
{
	DB *db;
	DBC *c;
	DBT k, v;
	int r;

	if (map_db_handle(&db, path, map_db_type(type), DB_RDONLY, 0, err) < 0)
		return -1;
	if ((r = db->cursor(db, NULL, &c, 0)) != 0) {
		buf_printf(err, "%s: cursor: %s", path, db_strerror(r));
		db->close(db, 0);
		return -1;
	}
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while ((r = c->get(c, &k, &v, DB_NEXT)) == 0)
		fn(k.data, map_db_strip(&k), v.data, map_db_strip(&v), ctx);
	c->close(c);
	db->close(db, 0);
	if (r != DB_NOTFOUND) {
		buf_printf(err, "%s: %s", path, db_strerror(r));
		return -1;
	}
	return 0;
}

int map_text_pairs(const struct buf *text, const char *origin,
		   int (*fn)(char *key, char *value, int line, void *ctx), void *ctx,
		   struct buf *err)
{
	struct buf line = BUF_INIT;
	struct map_text t;
	int r, lineno = 0;

	map_text_init(&t, text, origin);
	while ((r = map_text_next(&t, &line, &lineno, err)) > 0) {
		char *key, *value;

		if (map_split_kv(line.data, &key, &value) < 0) {
			buf_printf(err, "%s, line %d: expected format: key whitespace value",
				   origin, lineno);
			r = -1;
		} else if (fn(key, value, lineno, ctx) < 0) {
			r = -1;
		}
		if (r < 0)
			break;
	}
	buf_free(&line);
	return r < 0 ? -1 : 0;
}
