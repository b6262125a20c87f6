/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein): a keyed hash for tables
 * whose keys a peer chooses (client addresses), so that nobody who does not
 * know the key can aim many keys at one bucket.
 */
#ifndef MOAT_LIB_SIPHASH_H
#define MOAT_LIB_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash(const unsigned char key[16], const void *data, size_t len);

#endif
