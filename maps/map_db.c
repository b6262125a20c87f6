/*
 * map_db.c - hash: and btree: tables, read from Berkeley DB files (the same
 * files Postfix's postmap writes: key and value each with a trailing NUL on
 * Linux, and readers that try both with and without it).
 *
 * Why the replaceable open: the lookup stage runs chrooted in an empty
 * directory without open(); it only has the fd the broker opened. Berkeley
 * DB opens by path, with no call that takes an fd. Berkeley DB 5.3 lets a
 * program replace the open() it uses (db_env_set_func_open, documented in
 * its "Run-time configuration" chapter), so moat hands DB a path of its own
 * making, "/moat-fd/N", and its open answers with a duplicate of fd N.
 * Every other path goes to the real open(2), so moatmap can still create
 * files. This needs no /proc (no /proc/self/fd/N in an empty chroot), no
 * copy of the file (a 100,000-entry table stays on disk, paged by DB's own
 * cache), and no path inside the chroot.
 *
 * A DB opened with no environment keeps its cache in malloc'd memory: no
 * region files, no temporary directory, no lock files.
 *
 * XXX readers do not take Postfix's shared fcntl lock: moatmap replaces a
 * .db by rename, so moat never sees a half-written one; Debian's postmap
 * rewrites in place, and the lookup stage reopens a table whose file changed.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/msg.h"
#include "lib/strnum.h"
#include "lib/xmem.h"
#include "maps/map_db.h"
#include "maps/map_impl.h"

#define MAP_DB_FDPATH	"/moat-fd/"

/* Berkeley DB's messages during one call, for the caller's error text. */
static struct buf *map_db_errbuf;

static int map_db_fdpath(const char *path, int *fd)
{
	if (strncmp(path, MAP_DB_FDPATH, sizeof(MAP_DB_FDPATH) - 1) != 0)
		return 0;
	return strnum_int(path + sizeof(MAP_DB_FDPATH) - 1, 0, 1 << 24, fd) == 0;
}

/* map_db_open_fn - DB's open(): a duplicate of a handed-over fd, or open(2). */
static int map_db_open_fn(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	int fd;

	if (map_db_fdpath(path, &fd)) {
		if (flags & (O_CREAT | O_TRUNC | O_WRONLY | O_RDWR)) {
			errno = EPERM;	/* a handed-over table is never written */
			return -1;
		}
		return fcntl(fd, F_DUPFD_CLOEXEC, 0);
	}
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open(path, flags | O_CLOEXEC, mode);
}

/* map_db_exists_fn - DB's stat() for existence: a handed-over fd exists. */
static int map_db_exists_fn(const char *path, int *isdirp)
{
	struct stat st;
	int fd;

	if (map_db_fdpath(path, &fd)) {
		if (isdirp != NULL)
			*isdirp = 0;
		return fstat(fd, &st) == 0 ? 0 : errno;
	}
	if (stat(path, &st) < 0)
		return errno;
	if (isdirp != NULL)
		*isdirp = S_ISDIR(st.st_mode);
	return 0;
}

void map_db_init(void)
{
	static int done;

	if (done)
		return;
	if (db_env_set_func_open(map_db_open_fn) != 0 ||
	    db_env_set_func_exists(map_db_exists_fn) != 0)
		msg_fatal("cannot install Berkeley DB I/O functions");
	done = 1;
}

static void map_db_errcall(const DB_ENV *env, const char *pfx, const char *text)
{
	(void)env;
	(void)pfx;
	if (map_db_errbuf != NULL)
		buf_printf(map_db_errbuf, "%s%s", map_db_errbuf->len ? "; " : "", text);
}

int map_db_handle(DB **dbp, const char *path, int type, u_int32_t flags, int mode,
		  struct buf *err)
{
	struct buf dberr = BUF_INIT;
	DB *db;
	int r;

	map_db_init();
	if ((r = db_create(&db, NULL, 0)) != 0) {
		buf_printf(err, "%s: db_create: %s", path, db_strerror(r));
		return -1;
	}
	db->set_errcall(db, map_db_errcall);
	map_db_errbuf = &dberr;
	r = db->open(db, NULL, path, NULL, (DBTYPE)type, flags, mode);
	map_db_errbuf = NULL;
	if (r != 0) {
		buf_printf(err, "%s: cannot open as a %s table: %s%s%s", path,
			   type == DB_HASH ? "hash" : "btree", db_strerror(r),
			   dberr.len ? ": " : "", buf_str(&dberr));
		buf_free(&dberr);
		db->close(db, 0);
		return -1;
	}
	buf_free(&dberr);
	*dbp = db;
	return 0;
}

struct map_db {
	DB *db;
	unsigned nul;		/* MAP_F_NUL | MAP_F_NONUL: which key forms to try */
};

static int map_db_open(struct map *m, const struct buf *text, struct map_fds *fds,
		       struct buf *err)
{
	struct map_db *d;
	char fdpath[64];
	struct buf path = BUF_INIT;
	int fd, r;

	(void)text;
	(void)buf_printf(&path, "%s.db", m->name);
	xfree(m->origin);
	m->origin = buf_steal(&path);
	if ((fd = map_fds_take(fds, m->origin, err)) < 0)
		return -1;
	snprintf(fdpath, sizeof(fdpath), MAP_DB_FDPATH "%d", fd);
	d = xcalloc(1, sizeof(*d));
	r = map_db_handle(&d->db, fdpath, m->ops == &map_ops_btree ? DB_BTREE : DB_HASH,
			  DB_RDONLY, 0, err);
	close(fd);		/* DB holds its own duplicate */
	if (r < 0) {
		/* The error names "/moat-fd/N": say which file that was. */
		buf_printf(err, " (%s)", m->origin);
		xfree(d);
		return -1;
	}
	d->nul = m->flags & (MAP_F_NUL | MAP_F_NONUL);
	if (d->nul == 0)
		d->nul = MAP_F_NUL | MAP_F_NONUL;
	m->priv = d;
	return 0;
}

/* map_db_get - one DB get with or without the trailing NUL. */
static int map_db_get(struct map *m, struct map_db *d, const char *key, int nul,
		      struct buf *value)
{
	DBT k, v;
	int r;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = (void *)key;
	k.size = (u_int32_t)(strlen(key) + (nul ? 1 : 0));
	r = d->db->get(d->db, NULL, &k, &v, 0);
	if (r == DB_NOTFOUND)
		return MAP_NOTFOUND;
	if (r != 0) {
		msg_warn("%s: lookup of \"%s\": %s", m->origin, key, db_strerror(r));
		return MAP_FAIL;
	}
	if (v.size > 0 && ((const char *)v.data)[v.size - 1] == 0)
		v.size--;
	if (v.size > MAP_VALUE_MAX || memchr(v.data, 0, v.size) != NULL) {
		msg_warn("%s: value of \"%s\" is not text", m->origin, key);
		return MAP_FAIL;
	}
	return buf_set(value, v.data, v.size) < 0 ? MAP_FAIL : MAP_FOUND;
}

/*
 * map_db_lookup - as Postfix: try the key with its NUL, then without; once
 * one form has matched, the table is known to use it and only it is tried.
 */
static enum map_result map_db_lookup(struct map *m, const char *key, struct buf *value)
{
	struct map_db *d = m->priv;
	int r = MAP_NOTFOUND;

	if (strlen(key) > MAP_LINE_MAX)
		return MAP_NOTFOUND;
	if (d->nul & MAP_F_NUL) {
		r = map_db_get(m, d, key, 1, value);
		if (r == MAP_FOUND)
			d->nul &= ~MAP_F_NONUL;
	}
	if (r == MAP_NOTFOUND && (d->nul & MAP_F_NONUL)) {
		r = map_db_get(m, d, key, 0, value);
		if (r == MAP_FOUND)
			d->nul &= ~MAP_F_NUL;
	}
	return (enum map_result)r;
}

static void map_db_close(struct map *m)
{
	struct map_db *d = m->priv;

	d->db->close(d->db, 0);
	xfree(d);
}

/* map_db_text - a DBT as text (its trailing NUL dropped) into out; -1 if it holds a NUL. */
static int map_db_text(const DBT *d, struct buf *out)
{
	size_t n = d->size;

	if (n > 0 && ((const char *)d->data)[n - 1] == 0)
		n--;
	if (n > MAP_VALUE_MAX || memchr(d->data, 0, n) != NULL)
		return -1;
	return buf_set(out, d->data, n);
}

/* map_db_walk - fn for each entry under cursor c (see map_each). */
static int map_db_walk(struct map *m, DBC *c, map_each_fn fn, void *ctx, struct buf *err)
{
	struct buf key = BUF_INIT, value = BUF_INIT, where = BUF_INIT;
	DBT k, v;
	int r, stop = 0;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while (stop == 0 && (r = c->get(c, &k, &v, DB_NEXT)) == 0) {
		if (map_db_text(&k, &key) < 0 || map_db_text(&v, &value) < 0) {
			buf_printf(err, "%s: an entry is not text", m->origin);
			stop = -1;
			break;
		}
		buf_reset(&where);
		(void)buf_printf(&where, "%s: key \"%s\"", m->origin, buf_str(&key));
		stop = fn(ctx, buf_str(&where), buf_str(&value));
	}
	if (stop == 0 && r != DB_NOTFOUND) {
		buf_printf(err, "%s: %s", m->origin, db_strerror(r));
		stop = -1;
	}
	buf_free(&key);
	buf_free(&value);
	buf_free(&where);
	return stop;
}

static int map_db_each(struct map *m, map_each_fn fn, void *ctx, struct buf *err)
{
	struct map_db *d = m->priv;
	DBC *c;
	int r;

	if ((r = d->db->cursor(d->db, NULL, &c, 0)) != 0) {
		buf_printf(err, "%s: cursor: %s", m->origin, db_strerror(r));
		return -1;
	}
	r = map_db_walk(m, c, fn, ctx, err);
	c->close(c);
	return r;
}

const struct map_ops map_ops_hash = {
	"hash", MAP_SRC_DB, 0, 1, map_db_open, map_db_lookup, map_db_close, map_db_each,
};

const struct map_ops map_ops_btree = {
	"btree", MAP_SRC_DB, 0, 1, map_db_open, map_db_lookup, map_db_close, map_db_each,
};
