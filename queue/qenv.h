/*
 * qenv.h - read and check a queue file's envelope.
 *
 * Used by qmgr (recipients, their offsets for done marks, content size),
 * bounce (sender, attributes, recipients), queue_recover (is the file whole)
 * and the admin tools (print a file). The parser is strict: it checks the
 * record grammar of queue/record.h from the version record to the end
 * record and the exact end of the file, every field's syntax, and that the
 * size record agrees with what it finds. A file that fails is INCOMPLETE
 * (it ends early: a writer died, or has not committed yet) or CORRUPT
 * (anything else); the caller moves a corrupt file to corrupt/, and nothing
 * in the file can make the parser crash or read out of bounds.
 *
 * The size record ('C') holds, as 15-digit decimals:
 *   data_offset     offset of the first content record (just after 'M')
 *   data_end        offset just after the last content record (at 'X' or 'E')
 *   content_length  the sum of the content chunks' lengths
 *   rcpt_count      number of R and D records in the whole file
 * so a reader skips the content without reading it: the envelope is
 * [0, data_offset), the trailer [data_end, EOF).
 *
 * An attribute "redirect" (cleanup's header_checks REDIRECT) replaces every
 * recipient's addr with its value; orig keeps the address it replaced.
 *
 * Strings point into env->strings and stay valid until queue_env_free.
 */
#ifndef MOAT_QUEUE_QENV_H
#define MOAT_QUEUE_QENV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

#include "lib/buf.h"

struct queue_rcpt {
	const char *addr;	/* never empty */
	const char *orig;	/* original recipient, "" if none */
	const char *orcpt;	/* DSN ORCPT, "" if none */
	unsigned notify;	/* QUEUE_NOTIFY_* bits, 0 if not given */
	off_t offset;		/* of the record's type byte: see queue_file_mark_done */
	int done;		/* a 'D' record: already delivered or bounced */
};

struct queue_attr {
	const char *name;
	const char *value;
	off_t offset;		/* of the record's type byte: see queue_file_rewrite_attr */
};

struct queue_env {
	struct timeval arrival;
	const char *sender;	/* "" is the null sender */
	struct queue_attr *attrs;
	size_t nattrs;
	struct queue_rcpt *rcpts;	/* in file order */
	size_t nrcpts;
	size_t ndone;
	off_t data_offset;
	off_t data_end;
	uint64_t content_length;
	off_t file_size;
	int extract;		/* the file has an 'X' section */
	struct buf strings;	/* owns every string above */
	struct buf why;		/* after a failure: what and where, for the log */
};

/* Results of queue_env_read and queue_env_parse. */
#define QUEUE_ENV_OK		0
#define QUEUE_ENV_INCOMPLETE	(-1)	/* ends early: no valid end record yet */
#define QUEUE_ENV_CORRUPT	(-2)	/* anything else wrong: move to corrupt/ */
#define QUEUE_ENV_IOERR		(-3)	/* could not read: try again later */

/* Flags. */
#define QUEUE_ENV_VERIFY	1	/* also walk every content chunk header */

int queue_env_read(int fd, unsigned flags, struct queue_env *env);
int queue_env_parse(const void *p, size_t len, unsigned flags, struct queue_env *env);
void queue_env_free(struct queue_env *env);

#endif
