/*
 * moatmap - Postfix's postmap for moat: build, query, change and list
 * lookup tables.
 *
 *   moatmap [-NfinoprvwF] [-c config_dir] [type:]file...    build file.db
 *   moatmap [-NfnF] [-c dir] -q key|- [type:]file...        query (0 found, 1 not)
 *   moatmap [-Nnv] [-c dir] -d key|- [type:]file...         delete (0 deleted, 1 not)
 *   moatmap [-NfF] [-c dir] -s [type:]file...               list every entry
 *
 * A bare file is of default_database_type (main.cf in config_dir, default
 * /etc/moat). A .db is never rewritten in place: the new table is built
 * next to it, fsynced and renamed over it (maps/map_db_write.h), so a
 * running moat reads the old table or the new one, never half of one.
 * Queries go through the same map_open as the lookup stage, so what moatmap
 * -q answers is what moat answers. Run as root on a file owned by another
 * user, it works as that user (postmap's rule; -o keeps root).
 * It must never leave a temporary file behind or replace a table after an
 * error in its source.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/msg.h"
#include "maps/map.h"
#include "maps/map_db_write.h"
#include "tools/moatmap/moatmap.h"

static void usage(void)
{
	fprintf(stderr, "usage: moatmap [-NfinoprsvwF] [-c config_dir] [-d key] [-q key] "
		"[type:]file...\n");
	exit(1);
}

/* moatmap_dflt_type - default_database_type from main.cf (if there is one). */
static char *moatmap_dflt_type(const char *dir, int explicit)
{
	struct buf err = BUF_INIT, path = BUF_INIT;
	struct conf *c;
	char *type;

	(void)buf_printf(&path, "%s/main.cf", dir);
	if (!explicit && access(buf_str(&path), F_OK) != 0) {
		buf_free(&path);
		return strdup("hash");
	}
	buf_free(&path);
	if ((c = conf_load(dir, &err)) == NULL)
		msg_fatal("%s", buf_str(&err));
	type = strdup(conf_str(c, "default_database_type"));
	conf_free(c);
	buf_free(&err);
	return type;
}

static int moatmap_is_db(const char *type)
{
	return strcmp(type, "hash") == 0 || strcmp(type, "btree") == 0;
}

/* moatmap_db_spec - type and source name of a spec that must be a .db table. */
static void moatmap_db_spec(struct moatmap *mm, const char *spec, struct buf *type,
			    const char **name, const char *what)
{
	struct buf err = BUF_INIT;

	if (map_spec_split(spec, mm->dflt_type, type, name, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	if (!moatmap_is_db(buf_str(type)))
		msg_fatal("%s: cannot %s a %s table (only hash and btree have a .db file)",
			  spec, what, buf_str(type));
	buf_free(&err);
}

/* moatmap_drop_root - postmap's rule: build as the owner of the source. */
static void moatmap_drop_root(struct moatmap *mm, const struct stat *st)
{
	gid_t gid = st->st_gid;

	if (mm->keep_root || geteuid() != 0 || st->st_uid == 0)
		return;
	if (setgroups(1, &gid) < 0 || setgid(st->st_gid) < 0 || setuid(st->st_uid) < 0)
		msg_fatal("cannot run as the owner (uid %u) of the input file: %m",
			  (unsigned)st->st_uid);
}

struct moatmap_build {
	struct moatmap *mm;
	struct map_db_writer w;
	const char *origin;
	struct buf value;
};

static int moatmap_build_pair(char *key, char *value, int line, void *ctx)
{
	struct moatmap_build *b = ctx;
	struct buf err = BUF_INIT;
	int r;

	if (!(b->mm->flags & MAP_F_NOFOLD))
		moatmap_lower(key);
	if (b->mm->base64) {
		if (moatmap_files_base64(value, &b->value, &err) < 0)
			msg_fatal("%s, line %d: %s", b->origin, line, buf_str(&err));
		value = b->value.data;
	}
	r = map_db_write_put(&b->w, key, value, b->mm->dup, &err);
	if (r < 0)
		msg_fatal("%s", buf_str(&err));
	if (r == 1 && b->mm->dup == MAP_DUP_WARN)
		msg_warn("%s, line %d: duplicate entry: \"%s\"", b->origin, line, key);
	buf_free(&err);
	return 0;
}

/* moatmap_read - the whole of fd into text. */
static void moatmap_read(int fd, const char *name, struct buf *text)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			msg_fatal("read %s: %m", name);
		if (buf_append(text, chunk, (size_t)n) < 0)
			msg_fatal("%s: too large", name);
	}
}

/* moatmap_build - file -> file.db (or stdin added to file.db with -i). */
static void moatmap_build(struct moatmap *mm, const char *spec)
{
	struct moatmap_build b = { .mm = mm, .value = BUF_INIT };
	struct buf type = BUF_INIT, text = BUF_INIT, db = BUF_INIT, err = BUF_INIT;
	const char *name;
	struct stat st, dbst;
	mode_t mode;
	int fd;

	moatmap_db_spec(mm, spec, &type, &name, "build");
	if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		msg_fatal("open %s: %m", name);
	moatmap_drop_root(mm, &st);
	if (mm->incremental) {
		close(fd);
		fd = 0;
		b.origin = "stdin";
	} else {
		b.origin = name;
	}
	moatmap_read(fd, b.origin, &text);
	if (fd != 0)
		close(fd);
	(void)buf_printf(&db, "%s.db", name);
	mode = mm->default_perms ? 0644 : 0600 | (st.st_mode & 044);
	if (stat(buf_str(&db), &dbst) == 0)
		mode = dbst.st_mode & 07777;	/* a rebuild keeps the table's mode */
	if (map_db_write_begin(&b.w, buf_str(&type), buf_str(&db), mm->incremental,
			       !(mm->flags & MAP_F_NONUL), mode, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	if (map_text_pairs(&text, b.origin, moatmap_build_pair, &b, &err) < 0) {
		map_db_write_abort(&b.w);
		msg_fatal("%s", buf_str(&err));
	}
	if (map_db_write_commit(&b.w, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	buf_free(&type);
	buf_free(&text);
	buf_free(&db);
	buf_free(&err);
	buf_free(&b.value);
}

/* moatmap_keys - the key, or with "-" each line of stdin. */
static size_t moatmap_keys(const char *key, char ***out)
{
	struct buf text = BUF_INIT;
	size_t n = 0;
	char *p, *save = NULL;

	*out = NULL;
	if (strcmp(key, "-") != 0) {
		*out = calloc(1, sizeof(**out));
		if (*out == NULL || ((*out)[0] = strdup(key)) == NULL)
			msg_fatal("out of memory");
		return 1;
	}
	moatmap_read(0, "stdin", &text);
	for (p = strtok_r(text.data, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		*out = realloc(*out, (n + 1) * sizeof(**out));
		if (*out == NULL || ((*out)[n++] = strdup(p)) == NULL)
			msg_fatal("out of memory");
	}
	buf_free(&text);
	return n;
}

static void moatmap_free_keys(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* moatmap_delete - -d: every key from every table; 0 if any was there. */
static int moatmap_delete(struct moatmap *mm, char *const *specs, size_t nspecs, const char *key)
{
	char **keys;
	size_t nkeys = moatmap_keys(key, &keys);
	int found = 0;

	for (size_t i = 0; i < nspecs; i++) {
		struct buf type = BUF_INIT, db = BUF_INIT, err = BUF_INIT;
		struct map_db_writer w;
		const char *name;
		struct stat st;

		moatmap_db_spec(mm, specs[i], &type, &name, "delete from");
		(void)buf_printf(&db, "%s.db", name);
		if (stat(buf_str(&db), &st) < 0)
			msg_fatal("open %s: %m", buf_str(&db));
		if (map_db_write_begin(&w, buf_str(&type), buf_str(&db), 1,
				       !(mm->flags & MAP_F_NONUL), st.st_mode & 07777, &err) < 0)
			msg_fatal("%s", buf_str(&err));
		for (size_t k = 0; k < nkeys; k++) {
			int r = map_db_write_del(&w, mm->flags & MAP_F_NOFOLD ? keys[k] :
						 moatmap_lower(keys[k]), &err);

			if (r < 0) {
				map_db_write_abort(&w);
				msg_fatal("%s", buf_str(&err));
			}
			found |= (r == 0);
		}
		if (map_db_write_commit(&w, &err) < 0)
			msg_fatal("%s", buf_str(&err));
		buf_free(&type);
		buf_free(&db);
		buf_free(&err);
	}
	moatmap_free_keys(keys, nkeys);
	return found ? 0 : 1;
}

/* moatmap_query - -q: the first value in the tables, in their order. */
static int moatmap_query(struct moatmap *mm, char *const *specs, size_t nspecs, const char *key)
{
	struct map **maps = calloc(nspecs, sizeof(*maps));
	struct buf err = BUF_INIT, value = BUF_INIT, out = BUF_INIT;
	char **keys;
	size_t nkeys;
	int found = 0;

	if (maps == NULL)
		msg_fatal("out of memory");
	for (size_t i = 0; i < nspecs; i++)
		if ((maps[i] = map_open_path(specs[i], mm->dflt_type, mm->flags, &err)) == NULL)
			msg_fatal("%s", buf_str(&err));
	nkeys = moatmap_keys(key, &keys);
	for (size_t k = 0; k < nkeys; k++) {
		for (size_t i = 0; i < nspecs; i++) {
			enum map_result r = map_lookup(maps[i], keys[k], &value);

			if (r == MAP_FAIL)
				msg_fatal("table %s: lookup error for \"%s\"", specs[i], keys[k]);
			if (r == MAP_NOTFOUND)
				continue;
			moatmap_print(mm, strcmp(key, "-") == 0 ? keys[k] : NULL, value.data,
				      value.len, &out);
			found = 1;
			break;
		}
	}
	for (size_t i = 0; i < nspecs; i++)
		map_close(maps[i]);
	free(maps);
	moatmap_free_keys(keys, nkeys);
	buf_free(&err);
	buf_free(&value);
	buf_free(&out);
	return found ? 0 : 1;
}

struct moatmap_dump {
	struct moatmap *mm;
	struct buf out;
};

static void moatmap_dump_db(const char *key, size_t klen, const char *value, size_t vlen,
			    void *ctx)
{
	struct moatmap_dump *d = ctx;
	struct buf k = BUF_INIT;

	if (buf_set(&k, key, klen) < 0)
		msg_fatal("key too long");
	moatmap_print(d->mm, buf_str(&k), value, vlen, &d->out);
	buf_free(&k);
}

static int moatmap_dump_text(char *key, char *value, int line, void *ctx)
{
	struct moatmap_dump *d = ctx;

	(void)line;
	if (!(d->mm->flags & MAP_F_NOFOLD))
		moatmap_lower(key);	/* texthash keys are folded, as postmap lists them */
	moatmap_dump_db(key, strlen(key), value, strlen(value), ctx);
	return 0;
}

/* moatmap_dump - -s: every entry of a hash, btree or texthash table. */
static void moatmap_dump(struct moatmap *mm, const char *spec)
{
	struct moatmap_dump d = { mm, BUF_INIT };
	struct buf type = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
	const char *name;
	int rc, fd;

	if (map_spec_split(spec, mm->dflt_type, &type, &name, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	if (moatmap_is_db(buf_str(&type))) {
		(void)buf_printf(&path, "%s.db", name);
		rc = map_db_dump(buf_str(&type), buf_str(&path), moatmap_dump_db, &d, &err);
	} else if (strcmp(buf_str(&type), "texthash") == 0) {
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0)
			msg_fatal("open %s: %m", name);
		moatmap_read(fd, name, &path);
		close(fd);
		rc = map_text_pairs(&path, name, moatmap_dump_text, &d, &err);
	} else {
		msg_fatal("table %s does not support listing its entries", spec);
	}
	if (rc < 0)
		msg_fatal("%s", buf_str(&err));
	buf_free(&type);
	buf_free(&err);
	buf_free(&path);
	buf_free(&d.out);
}

int main(int argc, char **argv)
{
	struct moatmap mm = { .dup = MAP_DUP_WARN };
	const char *confdir = "/etc/moat", *query = NULL, *del = NULL;
	int ch, dump = 0, explicit_dir = 0, rc = 0;

	msg_init("moatmap");
	while ((ch = getopt(argc, argv, "Nc:d:fFinopq:rsvw")) != -1) {
		switch (ch) {
		case 'N': mm.flags = (mm.flags & ~MAP_F_NONUL) | MAP_F_NUL; break;
		case 'n': mm.flags = (mm.flags & ~MAP_F_NUL) | MAP_F_NONUL; break;
		case 'c': confdir = optarg; explicit_dir = 1; break;
		case 'd': del = optarg; break;
		case 'f': mm.flags |= MAP_F_NOFOLD; break;
		case 'F': mm.base64 = 1; break;
		case 'i': mm.incremental = 1; break;
		case 'o': mm.keep_root = 1; break;
		case 'p': mm.default_perms = 1; break;
		case 'q': query = optarg; break;
		case 'r': mm.dup = MAP_DUP_REPLACE; break;
		case 's': dump = 1; break;
		case 'v': msg_verbose++; break;
		case 'w': mm.dup = MAP_DUP_IGNORE; break;
		default: usage();
		}
	}
	if (optind >= argc || (query != NULL) + (del != NULL) + dump > 1)
		usage();
	mm.dflt_type = moatmap_dflt_type(confdir, explicit_dir);
	if (query != NULL)
		rc = moatmap_query(&mm, argv + optind, (size_t)(argc - optind), query);
	else if (del != NULL)
		rc = moatmap_delete(&mm, argv + optind, (size_t)(argc - optind), del);
	else
		for (int i = optind; i < argc; i++)
			dump ? moatmap_dump(&mm, argv[i]) : moatmap_build(&mm, argv[i]);
	free(mm.dflt_type);
	return rc;
}
