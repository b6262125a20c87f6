/*
 * strnum.c - checked decimal parsing (see strnum.h).
 *
 * Overflow is detected before it happens, digit by digit; this file must
 * never accept a partial parse.
 */
#include <string.h>

#include "lib/strnum.h"

/* strnum_u64n - parse exactly len bytes of s as a decimal in [min, max]. */
int strnum_u64n(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9)
			return -1;
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int strnum_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return strnum_u64n(s, strlen(s), min, max, out);
}

/* strnum_int - like strnum_u64 for a non-negative int range (min >= 0). */
int strnum_int(const char *s, int min, int max, int *out)
{
	uint64_t v;

	if (min < 0 || max < min)
		return -1;
	if (strnum_u64(s, (uint64_t)min, (uint64_t)max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}
