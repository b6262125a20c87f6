/*
 * test_map_db.c - unit tests for hash: and btree: (maps/map_db.c and
 * maps/map_db_write.c): built by moat's writer and by Debian's postmap,
 * read from a handed-over fd whose path no longer exists, the trailing-NUL
 * convention both ways, atomic replace, corrupt files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "maps/map_db_write.h"
#include "test_map_util.h"

static void tmap_build(const char *type, const char *db, int nul, const char *const *kv)
{
	struct map_db_writer w;
	struct buf err = BUF_INIT;

	if (map_db_write_begin(&w, type, db, 0, nul, 0644, &err) < 0)
		fail_msg("%s", buf_str(&err));
	for (; kv[0] != NULL; kv += 2)
		assert_int_equal(map_db_write_put(&w, kv[0], kv[1], MAP_DUP_WARN, &err), 0);
	if (map_db_write_commit(&w, &err) < 0)
		fail_msg("%s", buf_str(&err));
	buf_free(&err);
}

static const char *const tmap_kv[] = {
	"example.com", "smtp:[10.0.0.1]", "user@example.org", "REJECT no", NULL,
};

/* The stage gets an fd; the path it came from may not exist in its chroot. */
static void test_map_db_from_fd(void **state)
{
	const char *types[] = { "hash", "btree" };

	(void)state;
	for (int i = 0; i < 2; i++) {
		char db[300];
		const char *base = tmap_file(types[i], "");
		struct buf err = BUF_INIT;
		struct map *m;
		int fd;

		snprintf(db, sizeof(db), "%s.db", base);
		tmap_build(types[i], db, 1, tmap_kv);
		assert_true((fd = open(db, O_RDONLY)) >= 0);
		assert_int_equal(unlink(db), 0);
		assert_non_null(m = map_open(tmap_spec(types[i], base), NULL, &fd, 1, 0, &err));
		tmap_expect(m, "example.com", "smtp:[10.0.0.1]");
		tmap_expect(m, "EXAMPLE.Com", "smtp:[10.0.0.1]");	/* folded */
		tmap_expect(m, "User@Example.org", "REJECT no");
		tmap_expect(m, "example.net", NULL);
		assert_int_equal(fcntl(fd, F_GETFD), -1);	/* ours was closed */
		map_close(m);
		buf_free(&err);
	}
}

/* Keys written without their NUL (-n) are found too, as Postfix finds them. */
static void test_map_db_nul_forms(void **state)
{
	char db[300];
	const char *base = tmap_file("nonul", "");
	struct map *m;

	(void)state;
	snprintf(db, sizeof(db), "%s.db", base);
	tmap_build("hash", db, 0, tmap_kv);
	m = tmap_open(tmap_spec("hash", base), 0);
	tmap_expect(m, "example.com", "smtp:[10.0.0.1]");
	map_close(m);
	m = tmap_open(tmap_spec("hash", base), MAP_F_NUL);	/* -N: only with NUL */
	tmap_expect(m, "example.com", NULL);
	map_close(m);
	m = tmap_open(tmap_spec("hash", base), MAP_F_NONUL);
	tmap_expect(m, "example.com", "smtp:[10.0.0.1]");
	map_close(m);
}

/* A table built by Debian's postmap reads the same (keys carry their NUL). */
static void test_map_db_postmap_built(void **state)
{
	char cmd[900];
	const char *src = tmap_file("pm", "Example.COM   relay:[inside]:25\nkey2 two words\n");
	struct map *m;

	(void)state;
	tmap_file("main.cf", "");
	if (access("/usr/sbin/postmap", X_OK) != 0)
		fail_msg("postmap is not installed (tools/install-deps.sh installs it)");
	snprintf(cmd, sizeof(cmd), "MAIL_CONFIG=%s /usr/sbin/postmap hash:%s", tmap_dir, src);
	assert_int_equal(system(cmd), 0);
	m = tmap_open(tmap_spec("hash", src), MAP_F_NUL);	/* proves the NUL is there */
	tmap_expect(m, "example.com", "relay:[inside]:25");
	tmap_expect(m, "KEY2", "two words");
	map_close(m);
}

static void test_map_db_errors(void **state)
{
	char db[300], want[400];
	const char *base = tmap_file("bt", "");
	struct buf err = BUF_INIT;

	(void)state;
	snprintf(db, sizeof(db), "%s.db", base);
	tmap_build("btree", db, 1, tmap_kv);
	snprintf(want, sizeof(want), "(%s)", db);
	tmap_open_err(tmap_spec("hash", base), want);	/* a btree is not a hash */
	tmap_file("junk.db", "this is not a Berkeley DB file, it is text\n");
	snprintf(want, sizeof(want), "%s/junk.db", tmap_dir);
	snprintf(db, sizeof(db), "hash:%s/junk", tmap_dir);
	tmap_open_err(db, want);
	snprintf(db, sizeof(db), "hash:%s/missing", tmap_dir);
	tmap_open_err(db, "missing.db: No such file");
	tmap_open_err("hash:{a=b}", "a hash table is a file");
	buf_free(&err);
}

/* -i/-d work on a copy; the old file stays whole until the rename. */
static void test_map_db_update(void **state)
{
	char db[300];
	const char *base = tmap_file("upd", "");
	struct map_db_writer w;
	struct buf err = BUF_INIT;
	struct stat st1, st2;
	struct map *m;

	(void)state;
	snprintf(db, sizeof(db), "%s.db", base);
	tmap_build("hash", db, 1, tmap_kv);
	assert_int_equal(stat(db, &st1), 0);
	assert_int_equal(map_db_write_begin(&w, "hash", db, 1, 1, 0640, &err), 0);
	assert_int_equal(map_db_write_put(&w, "example.com", "other", MAP_DUP_WARN, &err), 1);
	assert_int_equal(map_db_write_put(&w, "new.example", "x", MAP_DUP_WARN, &err), 0);
	assert_int_equal(map_db_write_del(&w, "user@example.org", &err), 0);
	assert_int_equal(map_db_write_del(&w, "absent", &err), 1);
	m = tmap_open(tmap_spec("hash", base), 0);	/* before commit: the old table */
	tmap_expect(m, "new.example", NULL);
	tmap_expect(m, "user@example.org", "REJECT no");
	map_close(m);
	assert_int_equal(map_db_write_commit(&w, &err), 0);
	assert_int_equal(stat(db, &st2), 0);
	assert_true(st1.st_ino != st2.st_ino);	/* replaced by rename */
	assert_int_equal(st2.st_mode & 0777, 0640);
	m = tmap_open(tmap_spec("hash", base), 0);
	tmap_expect(m, "example.com", "smtp:[10.0.0.1]");	/* first kept */
	tmap_expect(m, "new.example", "x");
	tmap_expect(m, "user@example.org", NULL);
	map_close(m);
	assert_int_equal(map_db_write_begin(&w, "hash", db, 1, 1, 0640, &err), 0);
	assert_int_equal(map_db_write_put(&w, "example.com", "other", MAP_DUP_REPLACE, &err), 0);
	map_db_write_abort(&w);		/* nothing changes */
	m = tmap_open(tmap_spec("hash", base), 0);
	tmap_expect(m, "example.com", "smtp:[10.0.0.1]");
	map_close(m);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_db_from_fd),
		cmocka_unit_test(test_map_db_nul_forms),
		cmocka_unit_test(test_map_db_postmap_built),
		cmocka_unit_test(test_map_db_errors),
		cmocka_unit_test(test_map_db_update),
	};

	return cmocka_run_group_tests(tests, NULL, tmap_teardown);
}
