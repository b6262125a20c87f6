/*
 * test_queue_file.c - queue files written, read back, streamed and marked
 * done (queue/qfile_write.c, qfile.c, qenv.c, qcontent.c), moves and scans
 * (queue/qmove.c), on temporary queue trees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "queue/qid.h"
#include "queue/record.h"
#include "test_queue_util.h"

/* ---- writing and reading queue files ---- */

/* Several recipients, an extract section and 5 MB of content, read back through an fd. */
static void test_file_round_trip_big(void **state)
{
	size_t clen = 5 * 1024 * 1024 + 17;
	char *content = tq_content(clen, 1);
	struct buf id = BUF_INIT;
	struct queue_env env;
	struct tq_tree t;
	struct stat st;
	int fd;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(tq_write(t.fd, content, clen, 100000, 1, &id), 0);
	fd = queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, clen));
	assert_true(env.extract);
	assert_int_equal(env.nattrs, 3);
	assert_string_equal(env.attrs[2].name, "extracted");
	assert_true(env.rcpts[2].offset > env.data_end);
	assert_int_equal(env.file_size, st.st_size);
	/* Chunking overhead is a few bytes per 64 KB. */
	assert_true(env.data_end - env.data_offset < (off_t)(clen + clen / 1000));
	assert_true(tq_check_content(fd, &env, content, clen));
	queue_env_free(&env);
	/* Without VERIFY the same result. */
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, clen));
	queue_env_free(&env);
	close(fd);
	tq_tree_remove(&t);
	buf_free(&id);
	xfree(content);
}

/* A small message: read through the in-memory path, and parsed from memory. */
static void test_file_round_trip_small(void **state)
{
	const char *content = "Subject: hi\r\n\r\n..dot\r\n";
	struct buf id = BUF_INIT, raw = BUF_INIT;
	struct queue_env env;
	struct tq_tree t;
	struct stat st;
	int fd;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(tq_write(t.fd, content, strlen(content), 3, 0, &id), 0);
	fd = queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, strlen(content)));
	assert_false(env.extract);
	assert_true(tq_check_content(fd, &env, content, strlen(content)));
	queue_env_free(&env);
	/* The same bytes through the in-memory entry point. */
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(buf_reserve(&raw, (size_t)st.st_size), 0);
	assert_int_equal(pread(fd, raw.data, (size_t)st.st_size, 0), st.st_size);
	raw.len = (size_t)st.st_size;
	assert_int_equal(queue_env_parse(raw.data, raw.len, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, strlen(content)));
	queue_env_free(&env);
	/* Every proper prefix fails (never OK), and the last byte is 'E'. */
	assert_int_equal(raw.data[raw.len - 2], 'E');
	for (size_t n = 0; n < raw.len; n++) {
		assert_int_not_equal(queue_env_parse(raw.data, n, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
		queue_env_free(&env);
	}
	close(fd);
	tq_tree_remove(&t);
	buf_free(&id);
	buf_free(&raw);
}

/* Content by file ranges (for sendfile) and copied to an fd. */
static void test_content_ranges_copy(void **state)
{
	size_t clen = 300000, got = 0, len;
	char *content = tq_content(clen, 7), *back = xmalloc(clen);
	struct buf id = BUF_INIT;
	struct queue_content qc;
	struct queue_env env;
	struct tq_tree t;
	int fd, mfd, chunks = 0;
	off_t off;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(tq_write(t.fd, content, clen, clen, 0, &id), 0);
	fd = queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_RDONLY);
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	queue_content_init(&qc, fd, &env);
	while (queue_content_range(&qc, &off, &len) == 1) {
		assert_true(got + len <= clen);
		assert_int_equal(pread(fd, back + got, len, off), (ssize_t)len);
		got += len;
		chunks++;
	}
	assert_int_equal(got, clen);
	assert_true(chunks >= 4);
	assert_memory_equal(back, content, clen);
	mfd = memfd_create("copy", 0);
	queue_content_init(&qc, fd, &env);
	assert_int_equal(queue_content_copy(&qc, mfd), 0);
	assert_int_equal(pread(mfd, back, clen, 0), (ssize_t)clen);
	assert_memory_equal(back, content, clen);
	close(mfd);
	queue_env_free(&env);
	close(fd);
	tq_tree_remove(&t);
	buf_free(&id);
	xfree(content);
	xfree(back);
}

/* No recipients: commit fails and leaves nothing; abort leaves nothing. */
static void test_file_commit_fail_abort(void **state)
{
	struct timeval tv = { 1, 0 };
	struct queue_file *qf;
	struct tq_tree t;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(queue_file_create(t.fd, QUEUE_INCOMING, &qf), 0);
	assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), 1);
	queue_file_put_time(qf, &tv);
	queue_file_put_sender(qf, "");
	queue_file_begin_content(qf);
	assert_int_equal(queue_file_commit(qf), -1);
	assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), 0);

	assert_int_equal(queue_file_create(t.fd, QUEUE_INCOMING, &qf), 0);
	queue_file_put_time(qf, &tv);
	assert_int_equal(queue_file_put_attr(qf, "Bad-Name", "x"), -1);
	assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), 0);
	assert_int_equal(queue_file_put_sender(qf, ""), -1);
	queue_file_abort(qf);

	assert_int_equal(queue_file_create(t.fd, QUEUE_INCOMING, &qf), 0);
	queue_file_abort(qf);
	assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), 0);
	/* A missing directory: create fails cleanly. */
	assert_int_equal(unlinkat(t.fd, "incoming", AT_REMOVEDIR), 0);
	assert_int_equal(queue_file_create(t.fd, QUEUE_INCOMING, &qf), -1);
	tq_tree_remove(&t);
}

/* A file being written (mode 0600) cannot be opened by readers. */
static void test_open_incomplete(void **state)
{
	struct queue_file *qf;
	struct tq_tree t;
	struct buf id = BUF_INIT;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(queue_file_create(t.fd, QUEUE_INCOMING, &qf), 0);
	buf_set_str(&id, queue_file_id(qf));
	errno = 0;
	assert_int_equal(queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_RDONLY), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(queue_file_open(t.fd, QUEUE_INCOMING, "../x", O_RDONLY), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_WRONLY), -1);
	assert_int_equal(errno, EINVAL);
	queue_file_abort(qf);
	tq_tree_remove(&t);
	buf_free(&id);
}

/* Done marks rewrite one byte in place and survive a re-read. */
static void test_mark_done(void **state)
{
	const char *content = "x\r\n";
	struct buf id = BUF_INIT;
	struct queue_env env;
	struct tq_tree t;
	off_t off1, off2;
	int fd;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(tq_write(t.fd, content, 3, 3, 1, &id), 0);
	fd = queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	assert_int_equal(env.ndone, 0);
	off1 = env.rcpts[1].offset;
	off2 = env.rcpts[2].offset;	/* in the extract section */
	assert_int_equal(queue_file_mark_done(fd, off1), 0);
	assert_int_equal(queue_file_mark_done(fd, off2), 0);
	assert_int_equal(queue_file_mark_done(fd, off2), 0);	/* idempotent */
	/* Not a recipient record: refused, nothing written. */
	assert_int_equal(queue_file_mark_done(fd, off1 + 1), -1);
	assert_int_equal(queue_file_mark_done(fd, 0), -1);
	assert_int_equal(queue_file_mark_done(fd, env.file_size + 10), -1);
	queue_env_free(&env);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, 3));
	assert_int_equal(env.ndone, 2);
	assert_false(env.rcpts[0].done);
	assert_true(env.rcpts[1].done);
	assert_true(env.rcpts[2].done);
	queue_env_free(&env);
	close(fd);
	/* A read-only fd cannot mark. */
	fd = queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_RDONLY);
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	assert_int_equal(queue_file_mark_done(fd, env.rcpts[0].offset), -1);
	queue_env_free(&env);
	close(fd);
	tq_tree_remove(&t);
	buf_free(&id);
}
/* An attribute's value is rewritten in place, same length only, and only there. */
static void test_rewrite_attr(void **state)
{
	struct buf id = BUF_INIT;
	struct queue_env env;
	struct timeval tv = { 1700000000, 0 };
	struct queue_file *qf;
	struct tq_tree t;
	off_t off;
	int fd;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(queue_file_create(t.fd, QUEUE_INCOMING, &qf), 0);
	buf_set_str(&id, queue_file_id(qf));
	assert_int_equal(queue_file_put_time(qf, &tv), 0);
	assert_int_equal(queue_file_put_sender(qf, "s@example.org"), 0);
	assert_int_equal(queue_file_put_attr(qf, "helo", "h"), 0);
	assert_int_equal(queue_file_put_attr(qf, "warn_time", "000001700003600"), 0);
	assert_int_equal(queue_file_put_rcpt(qf, "r@example.com", "", "", 0), 0);
	assert_int_equal(queue_file_begin_content(qf), 0);
	assert_int_equal(queue_file_put_content(qf, "x\r\n", 3), 0);
	assert_int_equal(queue_file_commit(qf), 0);
	fd = queue_file_open(t.fd, QUEUE_INCOMING, buf_str(&id), O_RDWR);
	assert_int_equal(queue_env_read(fd, 0, &env), QUEUE_ENV_OK);
	assert_string_equal(env.attrs[1].name, "warn_time");
	off = env.attrs[1].offset;
	/* wrong name, wrong length, wrong place: refused, nothing written */
	assert_int_equal(queue_file_rewrite_attr(fd, off, "helo", "000000000000000"), -1);
	assert_int_equal(queue_file_rewrite_attr(fd, off, "warn_time", "0"), -1);
	assert_int_equal(queue_file_rewrite_attr(fd, env.attrs[0].offset, "warn_time",
						 "000000000000000"), -1);
	assert_int_equal(queue_file_rewrite_attr(fd, off + 1, "warn_time", "000000000000000"), -1);
	assert_int_equal(queue_file_rewrite_attr(fd, env.rcpts[0].offset, "warn_time",
						 "000000000000000"), -1);
	assert_int_equal(queue_file_rewrite_attr(fd, env.file_size, "warn_time", "000000000000000"), -1);
	queue_env_free(&env);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_string_equal(env.attrs[1].value, "000001700003600");
	assert_string_equal(env.attrs[0].value, "h");
	assert_int_equal(queue_file_rewrite_attr(fd, off, "warn_time", "000000000000000"), 0);
	queue_env_free(&env);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_string_equal(env.attrs[1].value, "000000000000000");
	assert_string_equal(env.rcpts[0].addr, "r@example.com");
	queue_env_free(&env);
	close(fd);
	tq_tree_remove(&t);
	buf_free(&id);
}

/* ---- moves and scans ---- */

/* Moves rename, never replace, and refuse bad IDs. */
static void test_move(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct tq_tree t;
	int fd;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(tq_write(t.fd, "x", 1, 1, 0, &a), 0);
	assert_int_equal(queue_move(t.fd, buf_str(&a), QUEUE_INCOMING, QUEUE_ACTIVE, 0), 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_ACTIVE, buf_str(&a)), 1);
	assert_int_equal(queue_move(t.fd, buf_str(&a), QUEUE_ACTIVE, QUEUE_DEFERRED, 1), 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_DEFERRED, buf_str(&a)), 1);
	fd = queue_file_open(t.fd, QUEUE_DEFERRED, buf_str(&a), O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	/* Same ID already in the destination: refused, both files kept. */
	queue_path(&b, QUEUE_HOLD, buf_str(&a));
	fd = openat(t.fd, buf_str(&b), O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(queue_move(t.fd, buf_str(&a), QUEUE_DEFERRED, QUEUE_HOLD, 1), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(queue_exists(t.fd, QUEUE_DEFERRED, buf_str(&a)), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_HOLD, buf_str(&a)), 1);
	/* Bad IDs, missing files. */
	assert_int_equal(queue_move(t.fd, "../../etc/passwd", QUEUE_DEFERRED, QUEUE_HOLD, 0), -1);
	assert_int_equal(queue_move(t.fd, "0000000000000000", QUEUE_DEFERRED, QUEUE_HOLD, 0), -1);
	assert_int_equal(queue_remove(t.fd, QUEUE_DEFERRED, buf_str(&a)), 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_DEFERRED, buf_str(&a)), 0);
	assert_int_equal(queue_remove(t.fd, QUEUE_DEFERRED, "bad"), -1);
	tq_tree_remove(&t);
	buf_free(&a);
	buf_free(&b);
}

struct scan_log {
	struct buf ids;
	int stop_after;
	int strays;
};

static int scan_cb(const char *id, void *ctx)
{
	struct scan_log *l = ctx;

	buf_append_str(&l->ids, id);
	buf_putc(&l->ids, ' ');
	return --l->stop_after == 0;
}

static void stray_cb(enum queue_name q, const char *name, void *ctx)
{
	struct scan_log *l = ctx;

	assert_int_equal(q, QUEUE_DEFERRED);
	assert_true(strcmp(name, "README") == 0 || strcmp(name, "0000") == 0);
	l->strays++;
}

/* A scan lists IDs in creation order and skips everything else. */
static void test_scan_order(void **state)
{
	struct buf want = BUF_INIT, id = BUF_INIT;
	struct scan_log l = { BUF_INIT, -1, 0 };
	struct tq_tree t;
	int i, fd;

	(void)state;
	tq_tree_make(&t);
	for (i = 0; i < 20; i++) {
		assert_int_equal(tq_write(t.fd, "x", 1, 1, 0, &id), 0);
		assert_int_equal(queue_move(t.fd, buf_str(&id), QUEUE_INCOMING, QUEUE_DEFERRED, 0), 0);
		buf_append_str(&want, buf_str(&id));
		buf_putc(&want, ' ');
	}
	fd = openat(t.fd, "deferred/README", O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(mkdirat(t.fd, "deferred/0000", 0700), 0);
	assert_int_equal(queue_scan_all(t.fd, QUEUE_DEFERRED, scan_cb, stray_cb, &l), 20);
	assert_string_equal(buf_str(&l.ids), buf_str(&want));
	assert_int_equal(l.strays, 2);
	/* The callback stops the scan. */
	buf_reset(&l.ids);
	l.stop_after = 3;
	assert_int_equal(queue_scan(t.fd, QUEUE_DEFERRED, scan_cb, &l), 3);
	assert_int_equal(l.ids.len, 3 * (QUEUE_ID_LEN + 1));
	assert_memory_equal(l.ids.data, want.data, l.ids.len);
	assert_int_equal(queue_scan(t.fd, QUEUE_HOLD, scan_cb, &l), 0);
	assert_int_equal(unlinkat(t.fd, "hold", AT_REMOVEDIR), 0);
	assert_int_equal(queue_scan(t.fd, QUEUE_HOLD, scan_cb, &l), -1);
	tq_tree_remove(&t);
	buf_free(&want);
	buf_free(&id);
	buf_free(&l.ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_round_trip_big),
		cmocka_unit_test(test_file_round_trip_small),
		cmocka_unit_test(test_content_ranges_copy),
		cmocka_unit_test(test_file_commit_fail_abort),
		cmocka_unit_test(test_open_incomplete),
		cmocka_unit_test(test_mark_done),
		cmocka_unit_test(test_rewrite_attr),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_scan_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
