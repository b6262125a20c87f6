/*
 * smtpd_dataphase.c - the DATA command: checks, 354, content to cleanup, result.
 *
 * Content is taken from the session's input buffer, normalised by the
 * smtpd_data.c state machine into a 32 KB chunk, and sent to cleanup a chunk
 * at a time: no per-line syscalls, one copy. Past message_size_limit the
 * rest is read and dropped, then 552 5.3.4 and the cleanup message is
 * aborted. The 250 is sent only after cleanup says the file is durable.
 *
 * SECURITY: every content byte is the client's; the state machine decides
 * where the message ends (CRLF.CRLF only) and nothing after that point is
 * consumed here, so a smuggled "second message" can only ever be content.
 * A client that disconnects or times out mid-DATA gets its cleanup message
 * aborted: nothing half-received is queued.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "daemons/smtpd/smtpd_data.h"
#include "lib/msg.h"

#define DATA_CHUNK	32768	/* the IPC field's maximum */

static struct buf data_chunk = { NULL, 0, 0, DATA_CHUNK };

/* data_precheck - sequencing and smtpd_data_restrictions; -1 after replying. */
static int data_precheck(struct smtpd_session *s, size_t alen)
{
	struct buf reply = BUF_INIT;
	int r = 0;

	if (alen > 0) {
		smtpd_reply(s, "501 5.5.4 Syntax: DATA");
		return -1;
	}
	if (!s->in_mail || s->nrcpt == 0) {
		if (s->in_mail && s->rejected_rcpts)
			smtpd_reply(s, "554 5.5.1 Error: no valid recipients");
		else
			smtpd_reply(s, "503 5.5.1 Error: need RCPT command");
		return -1;
	}
	if (smtpd_check_cmd(s, L_DATA, &reply) == CHECK_REJECT) {
		smtpd_log_reject(s, "DATA", buf_str(&reply), NULL);
		smtpd_reply(s, "%s", buf_str(&reply));
		r = -1;
	}
	buf_free(&reply);
	return r;
}

/* data_eod_rejected - smtpd_end_of_data_restrictions, once the whole message
 * is in but before cleanup commits it; 1 after replying with the reject. */
static int data_eod_rejected(struct smtpd_session *s)
{
	struct buf reply = BUF_INIT;
	int r = smtpd_check_cmd(s, L_EOD, &reply) == CHECK_REJECT;

	if (r) {
		smtpd_log_reject(s, "END-OF-MESSAGE", buf_str(&reply), NULL);
		smtpd_cleanup_abort(s);
		smtpd_reply(s, "%s", buf_str(&reply));
	}
	buf_free(&reply);
	return r;
}

/* data_ship - send the chunk to cleanup unless the message is already lost. */
static void data_ship(struct smtpd_session *s, int *failed, int toobig)
{
	if (data_chunk.len > 0 && !*failed && !toobig
	    && smtpd_cleanup_data(s, data_chunk.data, data_chunk.len) < 0)
		*failed = 1;
	buf_reset(&data_chunk);
}

/* data_receive - read the content to its end; 0 at CRLF.CRLF, -1 if the client is gone. */
static int data_receive(struct smtpd_session *s, int *failed, int *toobig)
{
	struct smtpd_data d;
	int done = 0;

	smtpd_data_init(&d);
	buf_reset(&data_chunk);
	while (!done) {
		size_t used;

		if (smtpd_io_pending(s) == 0 && smtpd_io_fill(s) <= 0)
			return -1;
		used = smtpd_data_feed(&d, s->in.data + s->inpos, smtpd_io_pending(s), &data_chunk,
				       DATA_CHUNK, &done);
		s->inpos += used;
		s->data_bytes = d.out_bytes;
		if (s->cf->size_limit && d.out_bytes > s->cf->size_limit)
			*toobig = 1;
		if (done || data_chunk.len + 4 >= DATA_CHUNK)
			data_ship(s, failed, *toobig);
	}
	return 0;
}

void smtpd_data_cmd(struct smtpd_session *s, const char *arg, size_t alen)
{
	struct buf reply = BUF_INIT;
	int failed = 0, toobig = 0;

	(void)arg;
	if (data_precheck(s, alen) < 0)
		return;
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	if (smtpd_flush(s) < 0)
		return;
	s->data_bytes = 0;
	s->in_data = 1;
	/* PREPEND actions' headers come first; cleanup puts its Received: above them */
	if (s->prepend.len && smtpd_cleanup_data(s, s->prepend.data, s->prepend.len) < 0)
		failed = 1;
	smtpd_io_deadline(s);	/* the DATA phase is one request (smtpd_min_data_rate extends it) */
	if (data_receive(s, &failed, &toobig) < 0) {
		/* the session logs "lost connection/timeout after DATA"; abort the file */
		smtpd_cleanup_abort(s);
		s->reply_ok = 0;
		return;
	}
	s->in_data = 0;
	s->where = "END-OF-MESSAGE";
	s->data_bytes = 0;
	if (toobig || failed || !s->cleanup_open) {
		smtpd_cleanup_abort(s);
		if (toobig)
			smtpd_reply(s, "552 5.3.4 Error: message file too big");
		else
			smtpd_reply(s, "451 4.3.0 Error: queue file write error");
	} else if (data_eod_rejected(s)) {
		/* refused before the commit: nothing is queued */
	} else if (s->discard) {
		/* a DISCARD action: the client is told it is queued, nothing is */
		smtpd_cleanup_abort(s);
		smtpd_reply(s, "250 2.0.0 Ok: queued as %s", buf_str(&s->qid));
	} else if (smtpd_cleanup_end(s, &reply) < 0) {
		smtpd_reply(s, "%s", buf_str(&reply));
	} else {
		smtpd_reply(s, "%s", buf_str(&reply));
		s->errors = 0;	/* Postfix: errors count only "without delivering mail" */
	}
	buf_free(&reply);
	smtpd_mail_reset(s);
}
