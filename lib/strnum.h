/*
 * strnum.h - checked integer parsing: the only way moat turns text into numbers.
 *
 * The whole string must be decimal digits (no sign, no blanks, no base
 * prefix), and the value must lie in [min, max]; otherwise -1 and *out is
 * untouched. Never use atoi/strtol directly on anything a peer or a file
 * controls.
 */
#ifndef MOAT_LIB_STRNUM_H
#define MOAT_LIB_STRNUM_H

#include <stddef.h>
#include <stdint.h>

int strnum_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int strnum_u64n(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);
int strnum_int(const char *s, int min, int max, int *out);

#endif
