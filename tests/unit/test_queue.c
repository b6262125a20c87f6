/*
 * test_queue.c - queue IDs (queue/qid.c), records (queue/record.c), queue
 * files written, read back and marked done (qfile_write.c, qfile.c, qenv*.c,
 * qcontent.c), the parser's rejections, moves and scans (qmove.c).
 * Crash and recovery tests are in test_queue_crash.c.
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

/* ---- queue IDs ---- */

/* Fixed length, alphabet only, time part close to now. */
static void test_id_format(void **state)
{
	struct buf id = BUF_INIT;
	struct timeval tv;
	size_t i;

	(void)state;
	assert_int_equal(queue_id_new(&id), 0);
	assert_int_equal(id.len, QUEUE_ID_LEN);
	for (i = 0; i < id.len; i++)
		assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUV", id.data[i]));
	assert_true(queue_id_ok(buf_str(&id)));
	assert_int_equal(queue_id_time(buf_str(&id), &tv), 0);
	assert_true(labs((long)(tv.tv_sec - time(NULL))) <= 2);
	buf_free(&id);
}

/* 100k IDs in a row: each strictly greater than the last, so all unique. */
static void test_id_unique_ordered(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(queue_id_new(&a), 0);
	for (i = 0; i < 100000; i++) {
		assert_int_equal(queue_id_new(&b), 0);
		assert_true(strcmp(buf_str(&a), buf_str(&b)) < 0);
		buf_set(&a, b.data, b.len);
	}
	buf_free(&a);
	buf_free(&b);
}

/* Order holds across processes: parent, then child, then parent again. */
static void test_id_cross_process(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	int p[2], st;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(queue_id_new(&a), 0);
	usleep(1000);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		queue_id_new(&b);
		_exit(write(p[1], b.data, b.len) == QUEUE_ID_LEN ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	assert_int_equal(buf_reserve(&b, QUEUE_ID_LEN), 0);
	assert_int_equal(read(p[0], b.data, QUEUE_ID_LEN), QUEUE_ID_LEN);
	b.len = QUEUE_ID_LEN;
	b.data[b.len] = 0;
	usleep(1000);
	assert_int_equal(queue_id_new(&c), 0);
	assert_true(strcmp(buf_str(&a), buf_str(&b)) < 0);
	assert_true(strcmp(buf_str(&b), buf_str(&c)) < 0);
	/* Different processes: the pid part differs. */
	assert_memory_not_equal(a.data + QUEUE_ID_TIME_LEN, b.data + QUEUE_ID_TIME_LEN, 5);
	close(p[0]);
	close(p[1]);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

/* Anything but exactly 16 alphabet symbols is refused. */
static void test_id_reject(void **state)
{
	static const char *bad[] = {
		"", "0", "000000000000000", "00000000000000000", "0000000000000000 ",
		"000000000000000W", "000000000000000Z", "000000000000000a", "00000000000000/0",
		"../../etc/passwd", "0000000000000.00", "00000000-0000000", " 000000000000000",
	};
	struct timeval tv;
	size_t i;

	(void)state;
	assert_true(queue_id_ok("0000000000000000"));
	assert_true(queue_id_ok("VVVVVVVVVVVVVVVV"));
	assert_true(queue_id_ok("0123456789ABCDEF"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(queue_id_ok(bad[i]));
		assert_int_equal(queue_id_time(bad[i], &tv), -1);
	}
	assert_false(queue_id_ok(NULL));
	assert_false(queue_id_okn("0000000000000000", 15));
	assert_false(queue_id_okn("00000000\0" "0000000", 16));
	assert_true(queue_id_okn("0000000000000000XYZ", 16));
}

/* The time part decodes: 00000000001 is 1 microsecond after the epoch. */
static void test_id_time(void **state)
{
	struct timeval tv;

	(void)state;
	assert_int_equal(queue_id_time("0000000000100000", &tv), 0);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 1);
	/* 1000000 us = 0xF4240 = 0b 11110 10000 10010 00000 -> "U", "G", "I", "0" */
	assert_int_equal(queue_id_time("0000000UGI000000", &tv), 0);
	assert_int_equal(tv.tv_sec, 1);
	assert_int_equal(tv.tv_usec, 0);
}

/* ---- records ---- */

/* Every varint size boundary encodes minimally and decodes back. */
static void test_varint_edges(void **state)
{
	static const struct { uint32_t v; size_t n; } cases[] = {
		{ 0, 1 }, { 1, 1 }, { 127, 1 }, { 128, 2 }, { 16383, 2 }, { 16384, 3 },
		{ (1u << 21) - 1, 3 }, { 1u << 21, 4 }, { (1u << 28) - 1, 4 }, { 1u << 28, 5 },
		{ UINT32_MAX, 5 },
	};
	unsigned char b[RECORD_VARINT_MAX];
	uint32_t v;
	size_t i, n, used;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = record_varint_put(b, cases[i].v);
		assert_int_equal(n, cases[i].n);
		assert_int_equal(record_varint_get(b, n, &v, &used), RECORD_OK);
		assert_int_equal(v, cases[i].v);
		assert_int_equal(used, n);
		/* Every proper prefix is short, never a different value. */
		while (n-- > 0)
			assert_int_equal(record_varint_get(b, n, &v, &used), RECORD_SHORT);
	}
}

/* Overlong, overflowing and non-minimal varints are refused. */
static void test_varint_reject(void **state)
{
	static const struct { const char *b; size_t n; int want; } cases[] = {
		{ "\x80\x80\x80\x80\x80\x00", 6, RECORD_BAD },	/* six bytes */
		{ "\xff\xff\xff\xff\x7f", 5, RECORD_BAD },	/* 35 bits */
		{ "\x80\x80\x80\x80\x10", 5, RECORD_BAD },	/* 2^32 */
		{ "\xff\xff\xff\xff\x8f", 5, RECORD_BAD },	/* 5th byte wants more */
		{ "\x80\x00", 2, RECORD_BAD },			/* 0 in two bytes */
		{ "\xff\x00", 2, RECORD_BAD },			/* 127 in two bytes */
		{ "\x80\x80\x00", 3, RECORD_BAD },
		{ "\x80", 1, RECORD_SHORT },
		{ "", 0, RECORD_SHORT },
		{ "\xff\xff\xff\xff\x0f", 5, RECORD_OK },	/* UINT32_MAX */
	};
	uint32_t v;
	size_t i, used;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(record_varint_get((const unsigned char *)cases[i].b, cases[i].n,
						   &v, &used), cases[i].want);
}

/* Records round trip; a length past the max or past the end is refused. */
static void test_record_round_trip(void **state)
{
	struct buf b = BUF_INIT;
	char big[300];
	struct record r;
	size_t off = 0;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(record_put(&b, 'S', "abc", 3), 0);
	assert_int_equal(record_put(&b, 'M', NULL, 0), 0);
	assert_int_equal(record_put(&b, 'B', big, sizeof(big)), 0);
	assert_int_equal(b.len, 5 + 2 + 303);
	assert_int_equal(record_get((unsigned char *)b.data, b.len, off, 1000, &r), RECORD_OK);
	assert_int_equal(r.type, 'S');
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.data, "abc", 3);
	assert_int_equal(r.end, 5);
	assert_int_equal(record_get((unsigned char *)b.data, b.len, r.end, 1000, &r), RECORD_OK);
	assert_int_equal(r.type, 'M');
	assert_int_equal(r.len, 0);
	assert_int_equal(record_get((unsigned char *)b.data, b.len, r.end, 1000, &r), RECORD_OK);
	assert_int_equal(r.type, 'B');
	assert_int_equal(r.len, 300);
	assert_int_equal(r.end, b.len);
	off = r.off;
	/* Past the reader's max. */
	assert_int_equal(record_get((unsigned char *)b.data, b.len, off, 299, &r), RECORD_BAD);
	/* Data cut short, header cut short, nothing at all. */
	assert_int_equal(record_get((unsigned char *)b.data, b.len - 1, off, 1000, &r), RECORD_SHORT);
	assert_int_equal(record_get((unsigned char *)b.data, off + 2, off, 1000, &r), RECORD_SHORT);
	assert_int_equal(record_get((unsigned char *)b.data, b.len, b.len, 1000, &r), RECORD_SHORT);
	/* A length of 2^32-1 in a tiny region: short, no overflow. */
	assert_int_equal(record_get((const unsigned char *)"B\xff\xff\xff\xff\x0f" "ab", 8, 0,
				    UINT32_MAX, &r), RECORD_SHORT);
	buf_free(&b);
}

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

/* ---- the parser's rejections ---- */

struct trec {
	int type;
	const char *data;	/* NULL for 'C': computed */
	size_t len;
};

#define TR(t, s) { t, s, sizeof(s) - 1 }
#define TR_C { 'C', NULL, 0 }

/* tb_build - a file from records; the size record computed, or overridden (-1 = keep). */
static void tb_build(struct buf *f, const struct trec *r, size_t n, const long long *ov)
{
	unsigned long long v[4] = { 0, 0, 0, 0 };
	size_t i, coff = 0;
	int content = 0;
	char zeros[QUEUE_SIZE_LEN + 1];
	struct buf c = BUF_INIT;

	memset(zeros, '0', QUEUE_SIZE_LEN);
	buf_reset(f);
	for (i = 0; i < n; i++) {
		if (r[i].type == 'C' && r[i].data == NULL) {
			coff = f->len + 2;
			record_put(f, 'C', zeros, QUEUE_SIZE_LEN);
			continue;
		}
		if (content && r[i].type != 'B') {
			v[1] = f->len;
			content = 0;
		}
		record_put(f, r[i].type, r[i].data, r[i].len);
		if (r[i].type == 'M') {
			v[0] = f->len;
			v[1] = f->len;
			content = 1;
		}
		if (r[i].type == 'B')
			v[2] += r[i].len;
		if (r[i].type == 'R' || r[i].type == 'D')
			v[3]++;
	}
	if (content)
		v[1] = f->len;
	for (i = 0; ov && i < 4; i++)
		if (ov[i] >= 0)
			v[i] = (unsigned long long)ov[i];
	buf_printf(&c, "%015llu %015llu %015llu %015llu", v[0], v[1], v[2], v[3]);
	if (coff)
		memcpy(f->data + coff, c.data, QUEUE_SIZE_LEN);
	buf_free(&c);
}

#define RCPT(s) TR('R', s "\0\0\0" "0")
#define BASE_HEAD TR('V', "MOAT1"), TR_C, TR('T', "1.000000"), TR('S', "")

static int tb_parse(const struct trec *r, size_t n, const long long *ov, unsigned flags)
{
	struct buf f = BUF_INIT;
	struct queue_env env;
	int res;

	tb_build(&f, r, n, ov);
	res = queue_env_parse(f.data, f.len, flags, &env);
	queue_env_free(&env);
	buf_free(&f);
	return res;
}

#define PARSE(flags, ov, ...) ({ const struct trec _r[] = { __VA_ARGS__ }; \
	tb_parse(_r, sizeof(_r) / sizeof(_r[0]), ov, flags); })

/* A minimal valid file parses; each kind of damage is refused with the right verdict. */
static void test_parse_reject(void **state)
{
	const long long zero[4] = { 0, 0, 0, 0 }, bad_count[4] = { -1, -1, -1, 2 };
	const long long long_end[4] = { -1, 100000, -1, -1 }, big_len[4] = { -1, -1, 1000, -1 };
	const long long small_len[4] = { -1, -1, 1, -1 };
	const int C = QUEUE_ENV_CORRUPT, I = QUEUE_ENV_INCOMPLETE, OK = QUEUE_ENV_OK;
	const unsigned V = QUEUE_ENV_VERIFY;
	struct queue_env env;

	(void)state;
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('A', "a=b"), RCPT("x"), TR('M', ""),
			       TR('B', "hi"), TR('E', "")), OK);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('D', "x\0\0\0" "1"), TR('M', ""),
			       TR('X', ""), RCPT("y"), TR('A', "z=1"), TR('E', "")), OK);
	/* Head. */
	assert_int_equal(queue_env_parse("", 0, V, &env), I);
	queue_env_free(&env);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT2"), TR_C, TR('T', "1.000000"), TR('S', ""),
			       RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT1")), I);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT1"), TR('C', "0"), TR('E', "")), C);
	assert_int_equal(PARSE(V, zero, BASE_HEAD, RCPT("x"), TR('M', ""), TR('E', "")), I);
	assert_int_equal(PARSE(V, long_end, BASE_HEAD, RCPT("x"), TR('M', ""), TR('E', "")), I);
	assert_int_equal(PARSE(V, bad_count, BASE_HEAD, RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, big_len, BASE_HEAD, RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, small_len, BASE_HEAD, RCPT("x"), TR('M', ""), TR('B', "ab"),
			       TR('E', "")), C);
	/* Without VERIFY the content is not walked; with it, a wrong length or record is found. */
	assert_int_equal(PARSE(0, small_len, BASE_HEAD, RCPT("x"), TR('M', ""), TR('B', "ab"),
			       TR('E', "")), OK);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), TR('A', "a=b"),
			       TR('B', "ab"), TR('E', "")), C);
	/* Envelope grammar. */
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('S', ""), RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT1"), TR_C, TR('S', ""), RCPT("x"), TR('M', ""),
			       TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('Q', ""), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('B', "a"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', "x"), TR('E', "")), C);
	/* Fields. */
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('A', "Bad=x"), RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('A', "novalue"), RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('A', "=x"), RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('A', "a=b\0c"), RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT1"), TR_C, TR('T', "1.000000"), TR('S', "a\0b"),
			       RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT1"), TR_C, TR('T', "1.00000"), TR('S', ""),
			       RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT1"), TR_C, TR('T', "1000000"), TR('S', ""),
			       RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, TR('V', "MOAT1"), TR_C, TR('T', "-1.000000"), TR('S', ""),
			       RCPT("x"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('R', "x\0\0" "0"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('R', "\0\0\0" "0"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('R', "x\0\0\0" "9"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('R', "x\0\0\0" "16"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('R', "x\0\0\0"), TR('M', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, TR('R', "x\0\0\0" "1\0"), TR('M', ""), TR('E', "")), C);
	/* Tail grammar. */
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), TR('B', "a")), I);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), TR('E', ""), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), TR('E', "x")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), RCPT("y"), TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), TR('X', ""), TR('S', ""),
			       TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), TR('X', ""), TR('X', ""),
			       TR('E', "")), C);
	assert_int_equal(PARSE(V, NULL, BASE_HEAD, RCPT("x"), TR('M', ""), TR('X', ""), RCPT("y")), I);
}

/* Every single-byte change of a valid file parses to a verdict, never a crash. */
static void test_parse_mutations(void **state)
{
	const struct trec r[] = { BASE_HEAD, TR('A', "a=b"), RCPT("x"), TR('M', ""),
				  TR('B', "hi"), TR('X', ""), RCPT("y"), TR('E', "") };
	struct buf f = BUF_INIT;
	struct queue_env env;
	size_t i;
	int v, res, ok = 0;

	(void)state;
	tb_build(&f, r, sizeof(r) / sizeof(r[0]), NULL);
	for (i = 0; i < f.len; i++) {
		char save = f.data[i];

		for (v = 0; v < 256; v++) {
			f.data[i] = (char)v;
			res = queue_env_parse(f.data, f.len, QUEUE_ENV_VERIFY, &env);
			assert_true(res == QUEUE_ENV_OK || res == QUEUE_ENV_CORRUPT
				    || res == QUEUE_ENV_INCOMPLETE);
			if (res == QUEUE_ENV_OK) {
				ok++;
				assert_int_equal(env.nrcpts, 2);
			}
			queue_env_free(&env);
		}
		f.data[i] = save;
	}
	/* Some bytes (the sender's absence aside, content, names) may change freely. */
	assert_true(ok > 0);
	buf_free(&f);
}

/* ---- golden files ---- */

/* golden_dump - the parse result of a file as text, as the .ref files hold it. */
static void golden_dump(const char *raw, size_t len, struct buf *out)
{
	struct queue_env env;
	size_t i;
	int r;

	buf_reset(out);
	r = queue_env_parse(raw, len, QUEUE_ENV_VERIFY, &env);
	if (r != QUEUE_ENV_OK) {
		buf_printf(out, "%s: %s\n", r == QUEUE_ENV_INCOMPLETE ? "incomplete" : "corrupt",
			   buf_str(&env.why));
		queue_env_free(&env);
		return;
	}
	buf_printf(out, "arrival %lld.%06ld\nsender <%s>\n", (long long)env.arrival.tv_sec,
		   (long)env.arrival.tv_usec, env.sender);
	for (i = 0; i < env.nattrs; i++)
		buf_printf(out, "attr %s=%s\n", env.attrs[i].name, env.attrs[i].value);
	for (i = 0; i < env.nrcpts; i++)
		buf_printf(out, "rcpt <%s> orig=<%s> orcpt=<%s> notify=%u done=%d offset=%lld\n",
			   env.rcpts[i].addr, env.rcpts[i].orig, env.rcpts[i].orcpt,
			   env.rcpts[i].notify, env.rcpts[i].done, (long long)env.rcpts[i].offset);
	buf_printf(out, "content %lld..%lld length %llu extract %d\n", (long long)env.data_offset,
		   (long long)env.data_end, (unsigned long long)env.content_length, env.extract);
	queue_env_free(&env);
}

/* golden_read - a whole file into b. */
static void golden_read(const char *path, struct buf *b)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf_reset(b);
	assert_int_equal(buf_reserve(b, (size_t)st.st_size), 0);
	assert_int_equal(read(fd, b->data, (size_t)st.st_size), st.st_size);
	b->len = (size_t)st.st_size;
	b->data[b->len] = 0;
	close(fd);
}

/*
 * Files written by this version of the writer (tests/unit/data/queue/NAME.in)
 * must parse to exactly the .ref text: the on-disk format cannot drift
 * without this test noticing. Damaged copies get the verdict in their .ref.
 */
static void test_golden(void **state)
{
	static const char *names[] = {
		"valid-basic", "valid-extract", "truncated", "bad-count", "done-mark",
	};
	struct buf in = BUF_INIT, ref = BUF_INIT, got = BUF_INIT, path = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		buf_reset(&path);
		buf_printf(&path, "tests/unit/data/queue/%s.in", names[i]);
		golden_read(buf_str(&path), &in);
		buf_reset(&path);
		buf_printf(&path, "tests/unit/data/queue/%s.ref", names[i]);
		golden_dump(in.data, in.len, &got);
		if (getenv("MOAT_GOLDEN_WRITE")) {
			FILE *f = fopen(buf_str(&path), "w");

			fwrite(got.data, 1, got.len, f);
			fclose(f);
		}
		golden_read(buf_str(&path), &ref);
		assert_string_equal(buf_str(&got), buf_str(&ref));
	}
	buf_free(&in);
	buf_free(&ref);
	buf_free(&got);
	buf_free(&path);
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
		cmocka_unit_test(test_id_format),
		cmocka_unit_test(test_id_unique_ordered),
		cmocka_unit_test(test_id_cross_process),
		cmocka_unit_test(test_id_reject),
		cmocka_unit_test(test_id_time),
		cmocka_unit_test(test_varint_edges),
		cmocka_unit_test(test_varint_reject),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_file_round_trip_big),
		cmocka_unit_test(test_file_round_trip_small),
		cmocka_unit_test(test_content_ranges_copy),
		cmocka_unit_test(test_file_commit_fail_abort),
		cmocka_unit_test(test_open_incomplete),
		cmocka_unit_test(test_mark_done),
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_parse_mutations),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_scan_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
