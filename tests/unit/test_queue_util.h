/*
 * test_queue_util.h - helpers shared by the queue tests (test_queue.c,
 * test_queue_crash.c): a temporary queue tree, a standard test message
 * written with the real writer, and checks of what a reader gets back.
 */
#ifndef MOAT_TEST_QUEUE_UTIL_H
#define MOAT_TEST_QUEUE_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xmem.h"
#include "queue/layout.h"
#include "queue/qcontent.h"
#include "queue/qenv.h"
#include "queue/qfile.h"
#include "queue/qmove.h"

#define TQ_UNUSED __attribute__((unused))

struct tq_tree {
	char path[64];
	int fd;
};

/* tq_tree_make - a fresh queue tree under /tmp; every queue directory made. */
static TQ_UNUSED void tq_tree_make(struct tq_tree *t)
{
	int i;

	snprintf(t->path, sizeof(t->path), "/tmp/moat-queue-test-XXXXXX");
	if (mkdtemp(t->path) == NULL)
		abort();
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->fd < 0)
		abort();
	for (i = 0; i < QUEUE_NDIRS; i++)
		if (mkdirat(t->fd, queue_dir_name(i), 0700) < 0)
			abort();
}

static TQ_UNUSED int tq_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* tq_tree_remove - delete the whole temporary tree. */
static TQ_UNUSED void tq_tree_remove(struct tq_tree *t)
{
	close(t->fd);
	nftw(t->path, tq_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* tq_content - deterministic wire-format content of n bytes (CRLF lines). */
static TQ_UNUSED char *tq_content(size_t n, unsigned seed)
{
	char *p = xmalloc(n + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' : (char)(' ' + (seed >> 16) % 95);
	}
	p[n] = 0;
	return p;
}

#define TQ_NRCPT 3

/* tq_write - the standard test message; piece: bytes per put_content call. */
static TQ_UNUSED int tq_write(int qdirfd, const char *content, size_t clen, size_t piece,
			      int extract, struct buf *id)
{
	struct timeval tv = { 1700000000, 123456 };
	struct queue_file *qf;
	size_t off;

	if (queue_file_create(qdirfd, QUEUE_INCOMING, &qf) < 0)
		return -1;
	buf_set_str(id, queue_file_id(qf));
	if (queue_file_put_time(qf, &tv) < 0
	    || queue_file_put_sender(qf, "sender@example.org") < 0
	    || queue_file_put_attr(qf, "client_name", "mx.example.net") < 0
	    || queue_file_put_attr(qf, "helo", "") < 0
	    || queue_file_put_rcpt(qf, "a@example.com", "", "", 0) < 0
	    || queue_file_put_rcpt(qf, "b@example.com", "alias@example.com", "rfc822;b@example.com",
				   QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY) < 0
	    || (!extract && queue_file_put_rcpt(qf, "c@example.com", "", "", QUEUE_NOTIFY_NEVER) < 0)
	    || queue_file_begin_content(qf) < 0)
		goto fail;
	for (off = 0; off < clen; off += piece)
		if (queue_file_put_content(qf, content + off, clen - off < piece ? clen - off : piece) < 0)
			goto fail;
	if (extract && (queue_file_begin_extract(qf) < 0
			|| queue_file_put_attr(qf, "extracted", "yes") < 0
			|| queue_file_put_rcpt(qf, "c@example.com", "", "", QUEUE_NOTIFY_NEVER) < 0))
		goto fail;
	return queue_file_commit(qf);
fail:
	queue_file_abort(qf);
	return -1;
}

/* tq_check_env - 1 if env is the standard test message with clen content bytes. */
static TQ_UNUSED int tq_check_env(const struct queue_env *env, size_t clen)
{
	return env->arrival.tv_sec == 1700000000 && env->arrival.tv_usec == 123456
		&& strcmp(env->sender, "sender@example.org") == 0
		&& env->nrcpts == TQ_NRCPT
		&& strcmp(env->rcpts[0].addr, "a@example.com") == 0
		&& strcmp(env->rcpts[1].addr, "b@example.com") == 0
		&& strcmp(env->rcpts[1].orig, "alias@example.com") == 0
		&& strcmp(env->rcpts[1].orcpt, "rfc822;b@example.com") == 0
		&& env->rcpts[1].notify == (QUEUE_NOTIFY_FAILURE | QUEUE_NOTIFY_DELAY)
		&& strcmp(env->rcpts[2].addr, "c@example.com") == 0
		&& env->rcpts[2].notify == QUEUE_NOTIFY_NEVER
		&& env->nattrs >= 2 && strcmp(env->attrs[0].name, "client_name") == 0
		&& strcmp(env->attrs[0].value, "mx.example.net") == 0
		&& strcmp(env->attrs[1].name, "helo") == 0 && env->attrs[1].value[0] == 0
		&& env->content_length == clen;
}

/* tq_check_content - 1 if the file's content reads back equal to want. */
static TQ_UNUSED int tq_check_content(int fd, const struct queue_env *env, const char *want,
				      size_t wlen)
{
	struct queue_content qc;
	char *got = xmalloc(wlen + 1);
	size_t have = 0;
	ssize_t n;
	int ok;

	queue_content_init(&qc, fd, env);
	while ((n = queue_content_read(&qc, got + have, wlen + 1 - have)) > 0)
		have += (size_t)n;
	ok = n == 0 && have == wlen && memcmp(got, want, wlen) == 0;
	xfree(got);
	return ok;
}

/* tq_count_cb / tq_count - number of queue IDs in a queue directory. */
static TQ_UNUSED int tq_count_cb(const char *id, void *ctx)
{
	(void)id;
	++*(int *)ctx;
	return 0;
}

static TQ_UNUSED int tq_count(int qdirfd, enum queue_name q)
{
	int n = 0;

	if (queue_scan(qdirfd, q, tq_count_cb, &n) < 0)
		return -1;
	return n;
}

#endif
