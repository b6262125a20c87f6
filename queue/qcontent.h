/*
 * qcontent.h - read the message content of a queue file.
 *
 * The content is stored as 'B' records holding the message exactly as it
 * goes on the wire (CRLF line ends, dot-stuffed), so the smtp client sends
 * it as it comes: either copy it out with queue_content_read into its own
 * buffer (TLS), or ask queue_content_range for the file ranges of the bytes
 * and hand them to sendfile/splice (plain TCP): no copy at all.
 *
 * The reader needs only the fd (read-only is enough) and the envelope's
 * data_offset, data_end and content_length from queue_env_read. It checks
 * every chunk header on the way and fails (-1, errno EBADMSG) on anything
 * that does not add up, so a corrupt file is noticed before its end is sent.
 *
 *	struct queue_content qc;
 *	queue_content_init(&qc, fd, &env);
 *	while ((n = queue_content_read(&qc, buf, sizeof(buf))) > 0)
 *		send(buf, n);
 *	n == 0: all content_length bytes were delivered; n < 0: error
 */
#ifndef MOAT_QUEUE_QCONTENT_H
#define MOAT_QUEUE_QCONTENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue/qenv.h"

struct queue_content {
	int fd;
	off_t pos;		/* next chunk header, or next byte of the chunk */
	off_t end;		/* data_end */
	uint64_t left;		/* content bytes not yet handed out */
	size_t chunk_left;	/* bytes left in the current chunk */
};

void queue_content_init(struct queue_content *qc, int fd, const struct queue_env *env);
ssize_t queue_content_read(struct queue_content *qc, void *dst, size_t n);
int queue_content_range(struct queue_content *qc, off_t *off, size_t *len);
int queue_content_copy(struct queue_content *qc, int out_fd);

#endif
