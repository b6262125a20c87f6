/*
 * fuzz_statuslog.c - libFuzzer target for mail/statuslog.c: the per-message
 * logs of failed and delayed recipients that qmgr writes and bounce reads
 * (a compromised qmgr, or a remote server's reply text inside an entry,
 * must not be able to hurt bounce).
 *
 * The input is written as <queue>/bounce/<id> in a private queue tree and
 * read back with statuslog_read. Every entry it yields must have its
 * mandatory fields; each is then appended with statuslog_append to
 * defer/<id> and read again, which must give the same entries (the writer's
 * framing holds whatever a field contains; only a field with a line break is
 * replaced, by design). A crash, a sanitizer report, a leak or an abort here
 * is a bug.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/iox.h"
#include "lib/xmem.h"
#include "mail/statuslog.h"
#include "queue/qfile.h"
#include "queue/qid.h"
#include "tests/fuzz/fuzz_util.h"

#define FUZZ_MAX_ENTRIES	64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_log {
	struct statuslog_entry e[FUZZ_MAX_ENTRIES];
	char *strings[FUZZ_MAX_ENTRIES][7];
	size_t n;
};

static int fuzz_qdir = -1;
static char fuzz_id[QUEUE_ID_LEN + 1];

/* fuzz_keep - a deep copy of each entry, while the reader's buffer lives. */
static int fuzz_keep(const struct statuslog_entry *e, void *ctx)
{
	struct fuzz_log *l = ctx;
	const char *in[7] = { e->rcpt, e->orcpt, e->dsn, e->action, e->reason, e->relay, "" };
	struct statuslog_entry *k;

	if (!e->rcpt || !e->dsn || !e->action || !e->orcpt || !e->reason || !e->relay)
		abort();	/* what bounce_dsn.c dereferences */
	if (l->n == FUZZ_MAX_ENTRIES)
		return 0;
	k = &l->e[l->n];
	for (int i = 0; i < 7; i++)
		l->strings[l->n][i] = xstrdup(in[i]);
	*k = (struct statuslog_entry){ l->strings[l->n][0], l->strings[l->n][1], e->notify,
				       l->strings[l->n][2], l->strings[l->n][3],
				       l->strings[l->n][4], l->strings[l->n][5], e->when };
	l->n++;
	return 0;
}

static void fuzz_log_free(struct fuzz_log *l)
{
	for (size_t i = 0; i < l->n; i++)
		for (int k = 0; k < 7; k++)
			xfree(l->strings[i][k]);
	l->n = 0;
}

static int fuzz_has_nl(const struct statuslog_entry *e)
{
	const char *f[] = { e->rcpt, e->orcpt, e->dsn, e->action, e->reason, e->relay };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strchr(f[i], '\n'))
			return 1;
	return 0;
}

static int fuzz_same(const struct statuslog_entry *a, const struct statuslog_entry *b)
{
	return strcmp(a->rcpt, b->rcpt) == 0 && strcmp(a->orcpt, b->orcpt) == 0
	       && a->notify == b->notify && strcmp(a->dsn, b->dsn) == 0
	       && strcmp(a->action, b->action) == 0 && strcmp(a->reason, b->reason) == 0
	       && strcmp(a->relay, b->relay) == 0 && a->when == b->when;
}

/* fuzz_rewrite - append what was read to defer/<id>; reading it gives it back. */
static void fuzz_rewrite(const struct fuzz_log *got)
{
	struct fuzz_log again = { .n = 0 };
	struct buf why = BUF_INIT;

	for (size_t i = 0; i < got->n; i++)
		if (statuslog_append(fuzz_qdir, QUEUE_DEFER, fuzz_id, &got->e[i]) < 0)
			abort();
	if (statuslog_read(fuzz_qdir, QUEUE_DEFER, fuzz_id, fuzz_keep, &again, &why) < 0
	    || again.n != got->n)
		abort();
	for (size_t i = 0; i < got->n; i++)
		if (!fuzz_has_nl(&got->e[i]) && !fuzz_same(&got->e[i], &again.e[i]))
			abort();
	fuzz_log_free(&again);
	if (statuslog_remove(fuzz_qdir, QUEUE_DEFER, fuzz_id) < 0)
		abort();
	buf_free(&why);
}

static void fuzz_init(void)
{
	struct buf id = BUF_INIT;

	msg_set_sink(fuzz_quiet, NULL);
	fuzz_qdir = fuzz_tree();
	if (queue_id_new(&id) < 0)
		abort();
	memcpy(fuzz_id, id.data, QUEUE_ID_LEN);
	buf_free(&id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_log got = { .n = 0 };
	struct buf path = BUF_INIT, why = BUF_INIT;
	int fd;

	if (fuzz_qdir < 0)
		fuzz_init();
	if (queue_path(&path, QUEUE_BOUNCE, fuzz_id) < 0)
		abort();
	fd = openat(fuzz_qdir, buf_str(&path), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || iox_write_full(fd, data, size) < 0 || close(fd) < 0)
		abort();
	if (statuslog_read(fuzz_qdir, QUEUE_BOUNCE, fuzz_id, fuzz_keep, &got, &why) < 0) {
		if (why.len == 0)
			abort();
	} else if (got.n < FUZZ_MAX_ENTRIES) {
		fuzz_rewrite(&got);
	}
	fuzz_log_free(&got);
	buf_free(&path);
	buf_free(&why);
	return 0;
}
