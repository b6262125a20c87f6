/*
 * test_siphash.c - lib/siphash.c against SipHash-2-4's reference vectors
 * (key 00..0f, message 00..len-1), and the key making a difference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/siphash.h"

static void test_siphash_vectors(void **state)
{
	unsigned char key[16], msg[64], other[16] = { 1 };

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	assert_true(siphash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(siphash(key, msg, 1) == 0x74f839c593dc67fdULL);
	assert_true(siphash(key, msg, 15) == 0xa129ca6149be45e5ULL);
	assert_true(siphash(other, msg, 15) != siphash(key, msg, 15));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
