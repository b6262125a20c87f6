/*
 * test_queue_crash.c - the durability rule under SIGKILL, and start-up
 * recovery (queue/qfile_write.c, queue/qrecover.c).
 *
 * A child writes and commits a queue file and is killed by SIGKILL at each
 * step of the writer in turn (queue_test_hook). After every kill,
 * queue_recover runs on the tree, and then: if the child had returned from
 * commit (it says so on a pipe: "250 would have been sent"), the file must
 * be in incoming/ and read back whole; otherwise no incomplete file may
 * remain in incoming/, and a file that is there must read back whole.
 * SIGKILL keeps the page cache, so this tests the protocol (marks, order,
 * cleanup), not the disk's honesty about fsync.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "lib/msg.h"
#include "queue/qrecover.h"
#include "queue/qspare.h"
#include "test_queue_util.h"

#define CLEN	(200 * 1024 + 3)	/* a few flushes */
#define PIECE	8000
#define MAX_STEPS	256

static int reuse;			/* give the writer a stale spare file to reuse */
static struct buf steps;		/* names of the steps seen, one per line */
static int kill_at;			/* 1-based hook call to die at; 0: never */
static int hook_calls;

/* crash_hook - count the writer's steps; die at the chosen one. */
static void crash_hook(const char *step)
{
	hook_calls++;
	if (kill_at == 0) {
		buf_append_str(&steps, step);
		buf_putc(&steps, '\n');
	}
	if (hook_calls == kill_at)
		raise(SIGKILL);
}

/* crash_child - write and commit the test message; report commit on the pipe. */
static void crash_child(int qdirfd, const char *content, int wfd)
{
	struct buf id = BUF_INIT;

	queue_test_hook = crash_hook;
	hook_calls = 0;
	if (tq_write(qdirfd, content, CLEN, PIECE, 1, &id) == 0)
		(void)!write(wfd, "250", 3);
	_exit(0);
}

/* crash_check_cb - every file in incoming/ must be complete and equal to the original. */
static int crash_check_cb(const char *id, void *ctx)
{
	const char *content = ctx;
	struct queue_env env;
	int fd;

	fd = queue_file_open(AT_FDCWD, QUEUE_INCOMING, id, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(queue_env_read(fd, QUEUE_ENV_VERIFY, &env), QUEUE_ENV_OK);
	assert_true(tq_check_env(&env, CLEN));
	assert_true(tq_check_content(fd, &env, content, CLEN));
	queue_env_free(&env);
	close(fd);
	return 0;
}

static int crash_remove_cb(const char *id, void *ctx)
{
	(void)ctx;
	return queue_remove(AT_FDCWD, QUEUE_INCOMING, id);
}

static int crash_spare_rm_cb(const char *id, void *ctx)
{
	(void)ctx;
	return queue_remove(AT_FDCWD, QUEUE_SPARE, id);
}

/*
 * crash_put_stale - spare/ holds exactly one delivered file: a complete,
 * larger message with other content, which the writer will reuse. A crash
 * must never let it pass for mail, nor its bytes leak into the new one.
 */
static void crash_put_stale(struct tq_tree *t)
{
	char *old = tq_content(CLEN + 30000, 7);
	struct buf id = BUF_INIT;

	queue_scan(t->fd, QUEUE_SPARE, crash_spare_rm_cb, NULL);
	queue_test_hook = NULL;
	queue_spare_reset();
	assert_int_equal(tq_write(t->fd, old, CLEN + 30000, PIECE, 0, &id), 0);
	/* Not released (that would wipe it): stale bytes, as a host crash may leave. */
	assert_int_equal(queue_move(t->fd, buf_str(&id), QUEUE_INCOMING, QUEUE_SPARE, 0), 0);
	assert_int_equal(queue_spare_count(t->fd), 1);
	queue_spare_reset();
	buf_free(&id);
	xfree(old);
}

/* crash_run - one child killed at hook call k (0: not killed); 1 if it said 250. */
static int crash_run(struct tq_tree *t, const char *content, int k, int *killed)
{
	char got[4] = { 0 };
	int p[2], st;
	pid_t pid;

	if (reuse)
		crash_put_stale(t);
	assert_int_equal(pipe(p), 0);
	kill_at = k;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		crash_child(t->fd, content, p[1]);
	}
	close(p[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	*killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	st = read(p[0], got, 3) == 3 && memcmp(got, "250", 3) == 0;
	close(p[0]);
	return st;
}

/* crash_print_steps - each step name once, with how often the writer passed it. */
static void crash_print_steps(void)
{
	const char *s = buf_str(&steps), *nl, *prev = NULL;
	size_t plen = 0;
	int n = 0;

	for (; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (prev && (size_t)(nl - s) == plen && memcmp(s, prev, plen) == 0) {
			n++;
			continue;
		}
		if (prev)
			print_message("  %.*s x%d\n", (int)plen, prev, n);
		prev = s;
		plen = (size_t)(nl - s);
		n = 1;
	}
	if (prev)
		print_message("  %.*s x%d\n", (int)plen, prev, n);
}

/* A kill at every step: never an acknowledged message lost, never an incomplete file kept. */
static void crash_every_step(void)
{
	char *content = tq_content(CLEN, 99);
	struct queue_recover_stats rs;
	struct buf id = BUF_INIT;
	struct tq_tree t;
	int nsteps, k, killed, acked, exercised = 0, kept = 0, cwd;
	const char *fchmod_at;

	tq_tree_make(&t);
	cwd = open(".", O_RDONLY | O_DIRECTORY);
	assert_int_equal(fchdir(t.fd), 0);
	/* A dry run counts the steps. */
	if (reuse)
		crash_put_stale(&t);
	queue_test_hook = crash_hook;
	kill_at = 0;
	hook_calls = 0;
	assert_int_equal(tq_write(t.fd, content, CLEN, PIECE, 1, &id), 0);
	queue_test_hook = NULL;
	nsteps = hook_calls;
	assert_true(nsteps > 10 && nsteps < MAX_STEPS);
	assert_int_equal(queue_remove(t.fd, QUEUE_INCOMING, buf_str(&id)), 0);
	assert_int_equal(queue_spare_count(t.fd), 0);	/* the stale file was reused */
	assert_true(!reuse || strstr(buf_str(&steps), "cut\n") != NULL);
	fchmod_at = strstr(buf_str(&steps), "fchmod\n");
	assert_non_null(fchmod_at);
	for (k = 1; k <= nsteps; k++) {
		/* The k-th step's name, from the dry run's list. */
		const char *s = buf_str(&steps);
		int i, after_fchmod;

		for (i = 1; i < k; i++)
			s = strchr(s, '\n') + 1;
		after_fchmod = s >= fchmod_at;
		acked = crash_run(&t, content, k, &killed);
		assert_true(killed);
		assert_false(acked);	/* every step is before commit returns */
		exercised++;
		assert_int_equal(queue_recover(t.fd, &rs), 0);
		assert_int_equal(rs.corrupt, 0);
		assert_int_equal(rs.busy, 0);
		/* Marked complete: it must survive, whole. Not yet: it must be gone. */
		assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), after_fchmod ? 1 : 0);
		assert_int_equal(rs.incomplete, after_fchmod ? 0 : 1);
		assert_int_equal(rs.ok, after_fchmod ? 1 : 0);
		kept += after_fchmod;
		queue_scan(t.fd, QUEUE_INCOMING, crash_check_cb, content);
		queue_scan(t.fd, QUEUE_INCOMING, crash_remove_cb, NULL);
	}
	/* Not killed: the 250 was sent, so the file must be there, whole. */
	acked = crash_run(&t, content, 0, &killed);
	assert_false(killed);
	assert_true(acked);
	assert_int_equal(queue_recover(t.fd, &rs), 0);
	assert_int_equal(rs.ok, 1);
	assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), 1);
	queue_scan(t.fd, QUEUE_INCOMING, crash_check_cb, content);
	print_message("crash test%s: %d kill points exercised of %d steps (%d after fchmod kept)\n",
		      reuse ? " (reusing a spare file)" : "", exercised, nsteps, kept);
	crash_print_steps();
	assert_int_equal(exercised, nsteps);
	assert_int_equal(fchdir(cwd), 0);
	close(cwd);
	tq_tree_remove(&t);
	buf_free(&id);
	buf_free(&steps);
	xfree(content);
}

static void test_crash_every_step(void **state)
{
	(void)state;
	reuse = 0;
	crash_every_step();
}

static void test_crash_every_step_reusing(void **state)
{
	(void)state;
	reuse = 1;
	crash_every_step();
	reuse = 0;
}

/* tq_put_file - a file named name in queue q with the given bytes and mode. */
static void tq_put_file(int qdirfd, enum queue_name q, const char *name, const char *data,
			mode_t mode)
{
	struct buf path = BUF_INIT;
	int fd;

	buf_printf(&path, "%s/%s", queue_dir_name(q), name);
	fd = openat(qdirfd, buf_str(&path), O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	buf_free(&path);
}

/* Recovery: active/ back to incoming/, garbage to corrupt/, strays kept, orphan logs removed. */
static void test_recover_moves(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	struct queue_recover_stats rs;
	struct tq_tree t;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(tq_write(t.fd, "x\r\n", 3, 3, 0, &a), 0);
	assert_int_equal(queue_move(t.fd, buf_str(&a), QUEUE_INCOMING, QUEUE_ACTIVE, 0), 0);
	assert_int_equal(tq_write(t.fd, "y\r\n", 3, 3, 0, &b), 0);
	assert_int_equal(queue_move(t.fd, buf_str(&b), QUEUE_INCOMING, QUEUE_DEFERRED, 0), 0);
	queue_id_new(&c);
	tq_put_file(t.fd, QUEUE_DEFERRED, buf_str(&c), "garbage", 0700);		/* corrupt */
	tq_put_file(t.fd, QUEUE_INCOMING, "0000000000000001", "garbage", 0700);	/* corrupt */
	tq_put_file(t.fd, QUEUE_INCOMING, "0000000000000002", "V\x05MOAT1", 0700);	/* cut: corrupt */
	tq_put_file(t.fd, QUEUE_INCOMING, "0000000000000003", "", 0600);		/* writer died */
	tq_put_file(t.fd, QUEUE_ACTIVE, "0000000000000004", "half", 0600);		/* impossible */
	tq_put_file(t.fd, QUEUE_HOLD, "0000000000000005", "", 0600);			/* corrupt */
	tq_put_file(t.fd, QUEUE_INCOMING, "not-an-id", "", 0600);			/* stray */
	tq_put_file(t.fd, QUEUE_BOUNCE, buf_str(&b), "log", 0600);			/* kept */
	tq_put_file(t.fd, QUEUE_DEFER, "0000000000000009", "log", 0600);		/* orphan */
	tq_put_file(t.fd, QUEUE_DEFER, "0000000000000001", "log", 0600);		/* kept: in corrupt */
	assert_int_equal(queue_recover(t.fd, &rs), 0);
	assert_int_equal(rs.requeued, 1);
	assert_int_equal(rs.corrupt, 5);
	assert_int_equal(rs.incomplete, 1);
	assert_int_equal(rs.ok, 2);
	assert_int_equal(rs.stray, 1);
	assert_int_equal(rs.logs, 1);
	assert_int_equal(rs.errors, 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_INCOMING, buf_str(&a)), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_ACTIVE, buf_str(&a)), 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_DEFERRED, buf_str(&b)), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_CORRUPT, buf_str(&c)), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_CORRUPT, "0000000000000001"), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_CORRUPT, "0000000000000002"), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_CORRUPT, "0000000000000004"), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_CORRUPT, "0000000000000005"), 1);
	assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), 1);
	assert_int_equal(faccessat(t.fd, "incoming/not-an-id", F_OK, 0), 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_BOUNCE, buf_str(&b)), 1);
	assert_int_equal(queue_exists(t.fd, QUEUE_DEFER, "0000000000000009"), 0);
	assert_int_equal(queue_exists(t.fd, QUEUE_DEFER, "0000000000000001"), 1);
	/* A second run finds nothing left to do. */
	assert_int_equal(queue_recover(t.fd, &rs), 0);
	assert_int_equal(rs.requeued + rs.corrupt + rs.incomplete + rs.logs, 0);
	assert_int_equal(rs.ok, 2);
	tq_tree_remove(&t);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

/* A file a live writer holds is left alone; once it is released it is judged. */
static void test_recover_busy_writer(void **state)
{
	struct queue_recover_stats rs;
	struct timeval tv = { 1, 0 };
	struct queue_file *qf;
	struct tq_tree t;

	(void)state;
	tq_tree_make(&t);
	assert_int_equal(queue_file_create(t.fd, QUEUE_INCOMING, &qf), 0);
	assert_int_equal(queue_recover(t.fd, &rs), 0);
	assert_int_equal(rs.busy, 1);
	assert_int_equal(rs.incomplete, 0);
	/* The writer goes on and commits: recovery did not pull the file from under it. */
	assert_int_equal(queue_file_put_time(qf, &tv), 0);
	assert_int_equal(queue_file_put_sender(qf, ""), 0);
	assert_int_equal(queue_file_put_rcpt(qf, "r@example.com", "", "", 0), 0);
	assert_int_equal(queue_file_begin_content(qf), 0);
	assert_int_equal(queue_file_commit(qf), 0);
	assert_int_equal(queue_recover(t.fd, &rs), 0);
	assert_int_equal(rs.busy, 0);
	assert_int_equal(rs.ok, 1);
	tq_tree_remove(&t);
}

static struct buf warnings = BUF_INIT;

static void warn_sink(enum msg_level level, const char *text, size_t len, void *ctx)
{
	(void)ctx;
	if (level >= MSG_WARN) {
		buf_append(&warnings, text, len);
		buf_putc(&warnings, '\n');
	}
}

/*
 * A committed message cut short afterwards (seen: deleted with an info
 * line): it may have been acknowledged, so it goes to corrupt/ with a
 * warning, whole as it was found, in incoming/ as in deferred/.
 */
static void test_recover_truncated_complete(void **state)
{
	static const enum queue_name queues[] = { QUEUE_INCOMING, QUEUE_DEFERRED };
	char *content = tq_content(CLEN, 7);
	struct queue_recover_stats rs;
	struct tq_tree t;
	struct stat st;

	(void)state;
	tq_tree_make(&t);
	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		struct buf id = BUF_INIT, path = BUF_INIT;

		assert_int_equal(tq_write(t.fd, content, CLEN, PIECE, 0, &id), 0);
		if (queues[i] != QUEUE_INCOMING)
			assert_int_equal(queue_move(t.fd, buf_str(&id), QUEUE_INCOMING, queues[i], 0), 0);
		assert_int_equal(queue_path(&path, queues[i], buf_str(&id)), 0);
		assert_int_equal(fstatat(t.fd, buf_str(&path), &st, 0), 0);
		int fd = openat(t.fd, buf_str(&path), O_WRONLY);

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, st.st_size / 2), 0);
		close(fd);
		buf_reset(&warnings);
		msg_set_sink(warn_sink, NULL);
		assert_int_equal(queue_recover(t.fd, &rs), 0);
		msg_set_sink(msg_stderr_sink, NULL);
		assert_int_equal(rs.corrupt, 1);
		assert_int_equal(rs.incomplete, 0);
		assert_int_equal(queue_exists(t.fd, queues[i], buf_str(&id)), 0);
		assert_int_equal(queue_exists(t.fd, QUEUE_CORRUPT, buf_str(&id)), 1);
		assert_int_equal(queue_path(&path, QUEUE_CORRUPT, buf_str(&id)), 0);
		assert_int_equal(fstatat(t.fd, buf_str(&path), &st, 0), 0);
		assert_true(st.st_size > 0);
		assert_non_null(strstr(buf_str(&warnings), buf_str(&id)));
		assert_non_null(strstr(buf_str(&warnings), "moving it to corrupt"));
		buf_free(&id);
		buf_free(&path);
	}
	tq_tree_remove(&t);
	buf_free(&warnings);
	xfree(content);
}

static int race_qdirfd;

/* race_hook - run recovery between the writer's create and its lock. */
static void race_hook(const char *step)
{
	struct queue_recover_stats rs;

	if (strcmp(step, "create") != 0 || hook_calls++ > 0)
		return;
	assert_int_equal(queue_recover(race_qdirfd, &rs), 0);
	assert_int_equal(rs.incomplete, 1);
}

/* Recovery removes a new file before its writer locks it: the writer notices and starts over. */
static void test_recover_races_create(void **state)
{
	struct queue_recover_stats rs;
	struct buf id = BUF_INIT;
	struct tq_tree t;

	(void)state;
	tq_tree_make(&t);
	race_qdirfd = t.fd;
	hook_calls = 0;
	queue_test_hook = race_hook;
	assert_int_equal(tq_write(t.fd, "z\r\n", 3, 3, 0, &id), 0);
	queue_test_hook = NULL;
	assert_int_equal(hook_calls, 2);	/* two creates: the first name was taken away */
	assert_int_equal(queue_exists(t.fd, QUEUE_INCOMING, buf_str(&id)), 1);
	assert_int_equal(queue_recover(t.fd, &rs), 0);
	assert_int_equal(rs.ok, 1);
	assert_int_equal(tq_count(t.fd, QUEUE_INCOMING), 1);
	tq_tree_remove(&t);
	buf_free(&id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_every_step),
		cmocka_unit_test(test_crash_every_step_reusing),
		cmocka_unit_test(test_recover_moves),
		cmocka_unit_test(test_recover_busy_writer),
		cmocka_unit_test(test_recover_truncated_complete),
		cmocka_unit_test(test_recover_races_create),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
