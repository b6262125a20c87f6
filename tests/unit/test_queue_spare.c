/*
 * test_queue_spare.c - reuse of delivered queue files (queue/qspare.c): a
 * reused file reads back exactly as a new one would, never shows its old
 * bytes, is never complete before commit, and a file that is still open
 * somewhere, linked twice, or too large is never reused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "queue/qspare.h"
#include "test_queue_util.h"

#define OLD_LEN	(40 * 1024 + 11)
#define NEW_LEN	(5 * 1024 + 3)

static struct tq_tree tree;
static struct queue_spare_pool pool;
static char *old_content, *new_content;

static int setup(void **state)
{
	(void)state;
	tq_tree_make(&tree);
	queue_spare_reset();
	queue_spare_pool_init(&pool, QUEUE_SPARE_MAX);
	old_content = tq_content(OLD_LEN, 1);
	new_content = tq_content(NEW_LEN, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tq_tree_remove(&tree);
	queue_spare_pool_free(&pool);
	xfree(old_content);
	xfree(new_content);
	return 0;
}

static ino_t ino_of(enum queue_name q, const char *id)
{
	struct buf p = BUF_INIT;
	struct stat st;

	assert_int_equal(queue_path(&p, q, id), 0);
	assert_int_equal(fstatat(tree.fd, buf_str(&p), &st, 0), 0);
	buf_free(&p);
	return st.st_ino;
}

/* retire_old - write the old (larger) message and retire it to spare/; its
 * inode; path (if not NULL) is set to its name in spare/. */
static ino_t retire_old(struct buf *id, struct buf *path)
{
	ino_t ino;

	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, id), 0);
	ino = ino_of(QUEUE_INCOMING, buf_str(id));
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(id)), 0);
	assert_int_equal(tq_count(tree.fd, QUEUE_INCOMING), 0);
	assert_int_equal(queue_spare_count(tree.fd), 1);
	queue_spare_reset();	/* the write above found spare/ empty: look again now */
	if (path != NULL)
		assert_int_equal(queue_path(path, QUEUE_SPARE, buf_str(id)), 0);
	return ino;
}

static int all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* file_has - does the file behind fd hold the n bytes at want anywhere? */
static int file_has(int fd, const char *want, size_t n)
{
	struct stat st;
	char *all;
	int found;

	assert_int_equal(fstat(fd, &st), 0);
	all = xmalloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, all, (size_t)st.st_size, 0), st.st_size);
	found = memmem(all, (size_t)st.st_size, want, n) != NULL;
	xfree(all);
	return found;
}

/* spare_fd - spare/ID open read-only, and its stat. */
static int spare_fd(const char *id, struct stat *st)
{
	struct buf p = BUF_INIT;
	int fd;

	assert_int_equal(queue_path(&p, QUEUE_SPARE, id), 0);
	fd = openat(tree.fd, buf_str(&p), O_RDONLY);
	buf_free(&p);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, st), 0);
	return fd;
}

/* check_new - incoming/id is the new message, whole, complete, nothing more. */
static void check_new(const char *id)
{
	struct queue_env env;
	struct stat st;
	int fd = queue_file_open(tree.fd, QUEUE_INCOMING, id, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, QUEUE_FILE_MODE_DONE);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, NEW_LEN));
	assert_true(tq_check_content(fd, &env, new_content, NEW_LEN));
	assert_int_equal(env.file_size, st.st_size);
	assert_true(st.st_size < NEW_LEN + 1024);	/* the old tail is cut */
	queue_env_free(&env);
	close(fd);
}

/* A retired file is reused: same inode, new content only, spare/ empty again. */
static void test_reuse(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	ino_t old;

	(void)state;
	old = retire_old(&a, NULL);
	assert_int_equal(tq_write(tree.fd, new_content, NEW_LEN, 1000, 0, &b), 0);
	assert_string_not_equal(buf_str(&a), buf_str(&b));
	assert_int_equal(ino_of(QUEUE_INCOMING, buf_str(&b)), old);
	assert_int_equal(queue_spare_count(tree.fd), 0);
	check_new(buf_str(&b));
	assert_int_equal(queue_remove(tree.fd, QUEUE_INCOMING, buf_str(&b)), 0);
	buf_free(&a);
	buf_free(&b);
}

/* A file reused for a larger message grows: nothing to cut, all of it reads back. */
static void test_reuse_larger(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct queue_env env;
	ino_t ino;
	int fd;

	(void)state;
	assert_int_equal(tq_write(tree.fd, new_content, NEW_LEN, 1000, 0, &a), 0);
	ino = ino_of(QUEUE_INCOMING, buf_str(&a));
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	queue_spare_reset();
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &b), 0);
	assert_int_equal(ino_of(QUEUE_INCOMING, buf_str(&b)), ino);
	fd = queue_file_open(tree.fd, QUEUE_INCOMING, buf_str(&b), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, OLD_LEN));
	assert_true(tq_check_content(fd, &env, old_content, OLD_LEN));
	queue_env_free(&env);
	close(fd);
	assert_int_equal(queue_remove(tree.fd, QUEUE_INCOMING, buf_str(&b)), 0);
	buf_free(&a);
	buf_free(&b);
}

static int hook_checked;

static int find_one(const char *id, void *ctx)
{
	buf_set_str(ctx, id);
	return 1;
}

/* mode_in_incoming - the mode of the one file in incoming/. */
static mode_t mode_in_incoming(struct buf *id)
{
	struct buf p = BUF_INIT;
	struct stat st;

	assert_int_equal(tq_count(tree.fd, QUEUE_INCOMING), 1);
	queue_scan(tree.fd, QUEUE_INCOMING, find_one, id);
	assert_int_equal(queue_path(&p, QUEUE_INCOMING, buf_str(id)), 0);
	assert_int_equal(fstatat(tree.fd, buf_str(&p), &st, 0), 0);
	buf_free(&p);
	return st.st_mode & 07777;
}

/* incomplete_hook - at the writer's first step a reused file is already 0600. */
static void incomplete_hook(const char *step)
{
	struct buf id = BUF_INIT;

	if (strcmp(step, "create") != 0)
		return;
	assert_int_equal(mode_in_incoming(&id), QUEUE_FILE_MODE_BUSY);
	buf_free(&id);
	hook_checked = 1;
}

/* A retired file is complete (0700) in spare/; reused, it is 0600 until commit. */
static void test_reuse_is_incomplete_until_commit(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, p = BUF_INIT;
	struct queue_file *qf;
	struct timeval tv = { 1700000000, 0 };
	struct stat st;
	ino_t old;

	(void)state;
	old = retire_old(&a, &p);
	assert_int_equal(fstatat(tree.fd, buf_str(&p), &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, QUEUE_FILE_MODE_DONE);
	queue_test_hook = incomplete_hook;
	assert_int_equal(queue_file_create(tree.fd, QUEUE_INCOMING, &qf), 0);
	queue_test_hook = NULL;
	assert_true(hook_checked);
	/* the old message's (wiped) bytes are there, but no reader will open the file */
	assert_int_equal(mode_in_incoming(&b), QUEUE_FILE_MODE_BUSY);
	assert_int_equal(ino_of(QUEUE_INCOMING, buf_str(&b)), old);
	assert_int_equal(queue_file_open(tree.fd, QUEUE_INCOMING, buf_str(&b), O_RDONLY), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(queue_file_put_time(qf, &tv), 0);
	queue_file_abort(qf);
	assert_int_equal(tq_count(tree.fd, QUEUE_INCOMING), 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&p);
}

/* A file still open elsewhere (an smtp process's fd) is dropped, never reused. */
static void test_open_file_not_reused(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	char head[64];
	int held;
	ino_t old;

	(void)state;
	queue_spare_reset();
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &a), 0);
	old = ino_of(QUEUE_INCOMING, buf_str(&a));
	held = queue_file_open(tree.fd, QUEUE_INCOMING, buf_str(&a), O_RDONLY);
	assert_true(held >= 0);
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	assert_int_equal(queue_spare_count(tree.fd), 1);
	queue_spare_reset();
	assert_int_equal(tq_write(tree.fd, new_content, NEW_LEN, 1000, 0, &b), 0);
	assert_true(ino_of(QUEUE_INCOMING, buf_str(&b)) != old);
	assert_int_equal(queue_spare_count(tree.fd), 0);	/* dropped from the pool */
	check_new(buf_str(&b));
	/* the holder sees the delivered message wiped, and nothing of the new one */
	assert_int_equal(pread(held, head, sizeof(head), 0), (ssize_t)sizeof(head));
	assert_true(all_zero(head, sizeof(head)));
	assert_false(file_has(held, new_content + 100, 32));
	close(held);
	assert_int_equal(queue_remove(tree.fd, QUEUE_INCOMING, buf_str(&b)), 0);
	buf_free(&a);
	buf_free(&b);
}

/* A spare name with a second link is not ours: left alone, not reused. */
static void test_linked_file_not_reused(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, p = BUF_INIT, h = BUF_INIT;
	struct stat st;
	ino_t old;

	(void)state;
	old = retire_old(&a, &p);
	assert_int_equal(queue_path(&h, QUEUE_HOLD, buf_str(&a)), 0);
	assert_int_equal(linkat(tree.fd, buf_str(&p), tree.fd, buf_str(&h), 0), 0);
	assert_int_equal(tq_write(tree.fd, new_content, NEW_LEN, 1000, 0, &b), 0);
	assert_true(ino_of(QUEUE_INCOMING, buf_str(&b)) != old);
	assert_int_equal(fstatat(tree.fd, buf_str(&h), &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, QUEUE_FILE_MODE_DONE);	/* untouched */
	assert_int_equal(st.st_ino, old);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(unlinkat(tree.fd, buf_str(&h), 0), 0);
	assert_int_equal(unlinkat(tree.fd, buf_str(&p), 0), 0);
	assert_int_equal(queue_remove(tree.fd, QUEUE_INCOMING, buf_str(&b)), 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&p);
	buf_free(&h);
}

/* Large files and files past the pool's size are unlinked, not kept. */
static void test_release_limits(void **state)
{
	struct buf a = BUF_INIT;
	int i;

	(void)state;
	queue_spare_reset();
	assert_int_equal(queue_spare_pool_load(&pool, tree.fd), 0);	/* spare/ is empty */
	char *big = tq_content(QUEUE_SPARE_FILE_MAX + 1, 3);

	assert_int_equal(tq_write(tree.fd, big, QUEUE_SPARE_FILE_MAX + 1, 65536, 0, &a), 0);
	xfree(big);
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	assert_int_equal(queue_spare_count(tree.fd), 0);
	assert_int_equal(tq_count(tree.fd, QUEUE_INCOMING), 0);
	/* fill the pool past its limit: it stops at QUEUE_SPARE_MAX */
	for (i = 0; i < QUEUE_SPARE_MAX + 5; i++) {
		struct buf p = BUF_INIT;
		int fd;

		buf_reset(&a);
		assert_int_equal(queue_id_new(&a), 0);
		assert_int_equal(queue_path(&p, QUEUE_INCOMING, buf_str(&a)), 0);
		fd = openat(tree.fd, buf_str(&p), O_CREAT | O_EXCL | O_WRONLY, 0600);
		buf_free(&p);
		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	}
	assert_int_equal(queue_spare_count(tree.fd), QUEUE_SPARE_MAX);
	assert_int_equal(tq_count(tree.fd, QUEUE_INCOMING), 0);
	/* a smaller pool loaded from it keeps what fits and unlinks the rest */
	{
		struct queue_spare_pool small;
		char id[QUEUE_ID_LEN + 1];
		int n = 0;

		queue_spare_pool_init(&small, 10);
		assert_int_equal(queue_spare_pool_load(&small, tree.fd), 10);
		assert_int_equal(queue_spare_count(tree.fd), 10);
		while (queue_spare_pool_pop(&small, id))
			assert_true(queue_exists(tree.fd, QUEUE_SPARE, id) == 1 && ++n > 0);
		assert_int_equal(n, 10);
		queue_spare_pool_free(&small);
	}
	assert_int_equal(queue_spare_pool_load(&pool, tree.fd), 10);
	buf_free(&a);
}

/* The name qmgr hands out (a hint) is the file the next message reuses. */
static void test_hint_is_taken_first(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	char hint[QUEUE_ID_LEN + 1];

	(void)state;
	queue_spare_reset();
	assert_int_equal(queue_spare_pool_load(&pool, tree.fd), queue_spare_count(tree.fd));
	while (queue_spare_pool_pop(&pool, hint))
		assert_int_equal(queue_remove(tree.fd, QUEUE_SPARE, hint), 0);
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &a), 0);
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &b), 0);
	ino_t ia = ino_of(QUEUE_INCOMING, buf_str(&a)), ib = ino_of(QUEUE_INCOMING, buf_str(&b));
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&b)), 0);
	/* the pool hands out the oldest first; hint the second to prove the hint wins */
	assert_int_equal(queue_spare_pool_pop(&pool, hint), 1);
	assert_string_equal(hint, buf_str(&a));
	assert_int_equal(queue_spare_pool_pop(&pool, hint), 1);
	assert_string_equal(hint, buf_str(&b));
	queue_spare_hint(hint);
	queue_spare_hint("not a queue id");	/* ignored */
	assert_int_equal(tq_write(tree.fd, new_content, NEW_LEN, 1000, 0, &c), 0);
	assert_int_equal(ino_of(QUEUE_INCOMING, buf_str(&c)), ib);
	check_new(buf_str(&c));
	assert_int_equal(queue_exists(tree.fd, QUEUE_SPARE, buf_str(&a)), 1);
	assert_true(ino_of(QUEUE_SPARE, buf_str(&a)) == ia);
	assert_int_equal(queue_remove(tree.fd, QUEUE_INCOMING, buf_str(&c)), 0);
	assert_int_equal(queue_remove(tree.fd, QUEUE_SPARE, buf_str(&a)), 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

/*
 * A delivered message's bytes are gone before its file waits in spare/
 * (seen: `strings` on a spare file showed the delivered subject): zeros
 * over all of it, same inode and blocks, so the next message reuses them.
 */
static void test_release_wipes(void **state)
{
	struct buf a = BUF_INIT;
	struct stat st;
	ino_t ino;
	int fd;

	(void)state;
	ino = retire_old(&a, NULL);
	fd = spare_fd(buf_str(&a), &st);
	assert_int_equal(st.st_ino, ino);
	assert_true(st.st_size > OLD_LEN);
	assert_false(file_has(fd, old_content + 1000, 40));
	assert_false(file_has(fd, "sender@example.org", 18));
	{
		char *all = xmalloc((size_t)st.st_size);

		assert_int_equal(pread(fd, all, (size_t)st.st_size, 0), st.st_size);
		assert_true(all_zero(all, (size_t)st.st_size));
		xfree(all);
	}
	close(fd);
	assert_int_equal(queue_remove(tree.fd, QUEUE_SPARE, buf_str(&a)), 0);
	buf_free(&a);
}

/* A file with a second name is never wiped: unlinked from the queue, the other name intact. */
static void test_release_linked_is_not_wiped(void **state)
{
	struct buf a = BUF_INIT, p = BUF_INIT, h = BUF_INIT;
	struct queue_env env;
	int fd;

	(void)state;
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &a), 0);
	assert_int_equal(queue_path(&p, QUEUE_INCOMING, buf_str(&a)), 0);
	assert_int_equal(queue_path(&h, QUEUE_HOLD, buf_str(&a)), 0);
	assert_int_equal(linkat(tree.fd, buf_str(&p), tree.fd, buf_str(&h), 0), 0);
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	assert_int_equal(queue_exists(tree.fd, QUEUE_SPARE, buf_str(&a)), 0);
	assert_int_equal(queue_exists(tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	fd = queue_file_open(tree.fd, QUEUE_HOLD, buf_str(&a), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_content(fd, &env, old_content, OLD_LEN));
	queue_env_free(&env);
	close(fd);
	assert_int_equal(queue_remove(tree.fd, QUEUE_HOLD, buf_str(&a)), 0);
	buf_free(&a);
	buf_free(&p);
	buf_free(&h);
}

/* At start-up every spare file is cut to nothing (a crash may have lost the zeros). */
static void test_load_cuts_to_zero(void **state)
{
	struct queue_spare_pool fresh;
	struct buf a = BUF_INIT;
	struct stat st;
	ino_t ino;
	int fd;

	(void)state;
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &a), 0);
	ino = ino_of(QUEUE_INCOMING, buf_str(&a));
	/* put there without a release: the stale bytes a host crash can leave */
	assert_int_equal(queue_move(tree.fd, buf_str(&a), QUEUE_INCOMING, QUEUE_SPARE, 0), 0);
	queue_spare_pool_init(&fresh, QUEUE_SPARE_MAX);
	assert_int_equal(queue_spare_pool_load(&fresh, tree.fd), queue_spare_count(tree.fd));
	queue_spare_pool_free(&fresh);
	fd = spare_fd(buf_str(&a), &st);
	assert_int_equal(st.st_ino, ino);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_blocks, 0);
	close(fd);
	assert_int_equal(queue_remove(tree.fd, QUEUE_SPARE, buf_str(&a)), 0);
	buf_free(&a);
}

/* Short of space, cleanup gives back every block spare/ holds. */
static void test_purge(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	uint64_t bytes;

	(void)state;
	int before = queue_spare_count(tree.fd);

	assert_int_equal(queue_spare_purge(tree.fd, &bytes), before);
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &a), 0);
	assert_int_equal(tq_write(tree.fd, old_content, OLD_LEN, 4096, 0, &b), 0);
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	assert_int_equal(queue_spare_release(&pool, tree.fd, QUEUE_INCOMING, buf_str(&b)), 0);
	assert_int_equal(queue_spare_count(tree.fd), 2);
	assert_int_equal(queue_spare_purge(tree.fd, &bytes), 2);
	assert_true(bytes >= 2 * OLD_LEN);
	assert_int_equal(queue_spare_count(tree.fd), 0);
	assert_int_equal(queue_spare_purge(tree.fd, &bytes), 0);
	assert_int_equal(bytes, 0);
	/* the pool still names them: the next writer creates a file instead */
	assert_int_equal(tq_write(tree.fd, new_content, NEW_LEN, 1000, 0, &a), 0);
	check_new(buf_str(&a));
	assert_int_equal(queue_remove(tree.fd, QUEUE_INCOMING, buf_str(&a)), 0);
	buf_free(&a);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_reuse_larger),
		cmocka_unit_test(test_reuse_is_incomplete_until_commit),
		cmocka_unit_test(test_open_file_not_reused),
		cmocka_unit_test(test_linked_file_not_reused),
		cmocka_unit_test(test_release_limits),
		cmocka_unit_test(test_hint_is_taken_first),
		cmocka_unit_test(test_release_wipes),
		cmocka_unit_test(test_release_linked_is_not_wiped),
		cmocka_unit_test(test_load_cuts_to_zero),
		cmocka_unit_test(test_purge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
