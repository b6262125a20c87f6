/*
 * test_queue.c - queue IDs (queue/qid.c), records (queue/record.c), the
 * envelope parser's verdicts on damaged files and on golden files
 * (queue/qenv.c, qenv_rec.c). Writing and reading real files, done marks,
 * moves and scans are in test_queue_file.c; crash and recovery tests in
 * test_queue_crash.c.
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
		cmocka_unit_test(test_parse_reject),
		cmocka_unit_test(test_parse_mutations),
		cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
