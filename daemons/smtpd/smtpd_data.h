/*
 * smtpd_data.h - the DATA reader: byte stream in, normalised wire form out.
 *
 * Pure (no I/O, no stage state) so that unit tests and the fuzzer include it.
 */
#ifndef MOAT_SMTPD_DATA_H
#define MOAT_SMTPD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct smtpd_data {
	int state;		/* enum in smtpd_data.c */
	int bare_prev;		/* the line before the current one ended in bare LF */
	uint64_t out_bytes;	/* normalised bytes produced so far */
};

void smtpd_data_init(struct smtpd_data *d);

/*
 * smtpd_data_feed - consume input from in[0..n), append normalised output to
 * out while out->len stays below outmax. Returns the number of input bytes
 * consumed; *done is set to 1 when the end-of-data line was consumed (it is
 * never part of the output, nor is anything after it consumed).
 */
size_t smtpd_data_feed(struct smtpd_data *d, const char *in, size_t n, struct buf *out,
		       size_t outmax, int *done);

#endif
