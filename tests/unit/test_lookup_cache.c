/*
 * test_lookup_cache.c - unit tests for skeleton/lookup_cache.c: the
 * per-request cache of lookup answers (hits by table, key, order and
 * delimiter; clear; caps on entries and bytes that a peer's keys cannot
 * pass).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ipc/lookupproto.h"
#include "skeleton/lookup_cache.h"

/* answer - a status and value as the lookup stage gives them. */
static struct lookup_answer *answer(struct lookup_answer *a, int status, const char *value,
				    const char *matched)
{
	a->status = status;
	buf_set_str(&a->value, value);
	buf_set_str(&a->matched, matched);
	return a;
}

static void test_hit_miss_clear(void **state)
{
	struct lookup_cache c;
	struct lookup_key k = { "hash:/etc/moat/access", "example.com", LOOKUP_ORDER_DOMAIN, 0, "" };
	struct lookup_key other = k;
	struct lookup_answer in = { 0 }, out = { 0 };

	(void)state;
	lookup_cache_init(&c);
	assert_int_equal(lookup_cache_get(&c, &k, &out), 0);
	lookup_cache_put(&c, &k, answer(&in, LOOKUP_FOUND, "REJECT no", "example.com"));
	assert_int_equal(lookup_cache_get(&c, &k, &out), 1);
	assert_int_equal(out.status, LOOKUP_FOUND);
	assert_string_equal(buf_str(&out.value), "REJECT no");
	assert_string_equal(buf_str(&out.matched), "example.com");
	/* every part of the query is part of the key */
	other.order = LOOKUP_ORDER_KEY;
	assert_int_equal(lookup_cache_get(&c, &other, &out), 0);
	other = k;
	other.tables = "hash:/etc/moat/other";
	assert_int_equal(lookup_cache_get(&c, &other, &out), 0);
	other = k;
	other.key = "Example.com";	/* the table folds case, the cache does not presume */
	assert_int_equal(lookup_cache_get(&c, &other, &out), 0);
	other = k;
	other.flags = LOOKUP_F_PARENT;
	assert_int_equal(lookup_cache_get(&c, &other, &out), 0);
	other = k;
	other.delim = "+";
	assert_int_equal(lookup_cache_get(&c, &other, &out), 0);
	/* a not-found answer is an answer too */
	lookup_cache_put(&c, &other, answer(&in, LOOKUP_NOTFOUND, "", ""));
	assert_int_equal(lookup_cache_get(&c, &other, &out), 1);
	assert_int_equal(out.status, LOOKUP_NOTFOUND);
	assert_int_equal(c.hits, 2);
	lookup_cache_clear(&c);
	assert_int_equal(lookup_cache_get(&c, &k, &out), 0);
	assert_int_equal(c.entries, 0);
	assert_int_equal(c.bytes, 0);
	buf_free(&in.value);
	buf_free(&in.matched);
	buf_free(&out.value);
	buf_free(&out.matched);
}

static void test_caps(void **state)
{
	static char big[LOOKUP_KEY_MAX + 1];
	struct lookup_cache c;
	struct lookup_key k = { "static:x", "", 0, 0, "" };
	struct lookup_answer in = { 0 }, out = { 0 };
	char key[32];

	(void)state;
	lookup_cache_init(&c);
	for (int i = 0; i < LOOKUP_CACHE_ENTRIES + 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		k.key = key;
		lookup_cache_put(&c, &k, answer(&in, LOOKUP_FOUND, "v", ""));
	}
	assert_int_equal(c.entries, LOOKUP_CACHE_ENTRIES);
	k.key = "k5";
	assert_int_equal(lookup_cache_get(&c, &k, &out), 1);
	k.key = "k1100";			/* past the cap: not cached, asked again */
	assert_int_equal(lookup_cache_get(&c, &k, &out), 0);
	lookup_cache_clear(&c);
	/* big keys: the byte cap holds whatever a peer sends */
	memset(big, 'x', LOOKUP_KEY_MAX);
	for (int i = 0; i < 100; i++) {
		big[0] = (char)('A' + i % 26);
		big[1] = (char)('A' + i / 26);
		k.key = big;
		lookup_cache_put(&c, &k, answer(&in, LOOKUP_FOUND, big, ""));
	}
	assert_true(c.bytes <= LOOKUP_CACHE_BYTES);
	assert_true(c.entries < 100 && c.entries > 0);
	/* a caller buffer too small for the value: a miss, never a cut value */
	buf_free(&out.value);
	buf_init(&out.value, 10);
	big[0] = 'A';
	big[1] = 'A';
	assert_int_equal(lookup_cache_get(&c, &k, &out), 0);
	lookup_cache_clear(&c);
	buf_free(&in.value);
	buf_free(&in.matched);
	buf_free(&out.value);
	buf_free(&out.matched);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss_clear),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
