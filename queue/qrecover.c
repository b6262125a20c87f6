/*
 * qrecover.c - queue recovery at qmgr start-up (see qrecover.h).
 *
 * Called once by qmgr before it schedules anything, possibly while cleanup
 * processes are writing new files into incoming/. This file must never
 * remove a file that a live writer will still commit (it unlinks an
 * incomplete file only while holding the writer's flock, and the writer
 * checks its link count after taking the lock), never remove a complete
 * file (a message that may have been acknowledged: those go to corrupt/ if
 * they are bad), and never touch a name that is not a queue ID.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/iox.h"
#include "lib/msg.h"
#include "queue/qenv.h"
#include "queue/qfile.h"
#include "queue/qmove.h"
#include "queue/qrecover.h"

struct qrec_ctx {
	int qdirfd;
	enum queue_name queue;		/* the directory being scanned */
	struct queue_recover_stats *st;
	unsigned dirty;			/* 1 << queue for directories we renamed in or out of */
};

/* qrec_stray - a name that is not a queue ID: log it (printable), leave it. */
static void qrec_stray(enum queue_name queue, const char *name, void *ctx)
{
	struct qrec_ctx *c = ctx;
	struct buf safe = BUF_INIT;
	size_t i;

	for (i = 0; name[i] && i < 64; i++)
		buf_putc(&safe, name[i] > ' ' && name[i] < 127 ? name[i] : '?');
	msg_warn("queue directory %s: leaving alone unexpected name \"%s\"",
		 queue_dir_name(queue), buf_str(&safe));
	buf_free(&safe);
	c->st->stray++;
}

/* qrec_move - rename (not yet durable: fsynced once at the end). */
static void qrec_move(struct qrec_ctx *c, const char *id, enum queue_name to)
{
	if (queue_move(c->qdirfd, id, c->queue, to, 0) < 0) {
		if (errno == ENOENT)
			msg_warn("%s/%s: vanished during recovery", queue_dir_name(c->queue), id);
		c->st->errors++;
		return;
	}
	c->dirty |= 1u << c->queue | 1u << to;
	if (to == QUEUE_CORRUPT)
		c->st->corrupt++;
	else
		c->st->requeued++;
}

/* qrec_corrupt - move a bad file to corrupt/, saying why. */
static void qrec_corrupt(struct qrec_ctx *c, const char *id, const char *why)
{
	msg_warn("%s/%s: %s; moving it to %s", queue_dir_name(c->queue), id, why,
		 queue_dir_name(QUEUE_CORRUPT));
	qrec_move(c, id, QUEUE_CORRUPT);
}

/* qrec_active - step 1: back to incoming/ (complete files) or to corrupt/. */
static int qrec_active(const char *id, void *ctx)
{
	struct qrec_ctx *c = ctx;
	struct buf path = BUF_INIT;
	struct stat st;

	if (queue_path(&path, QUEUE_ACTIVE, id) < 0
	    || fstatat(c->qdirfd, buf_str(&path), &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			c->st->errors++;
	} else if (S_ISREG(st.st_mode) && (st.st_mode & 07777) == QUEUE_FILE_MODE_DONE) {
		qrec_move(c, id, QUEUE_INCOMING);
	} else {
		qrec_corrupt(c, id, "not a complete queue file");
	}
	buf_free(&path);
	return 0;
}

/* qrec_open - open queue/ID read-only for checking; -1 (counted) if it cannot be. */
static int qrec_open(struct qrec_ctx *c, const char *id)
{
	struct buf path = BUF_INIT;
	int fd;

	if (queue_path(&path, c->queue, id) < 0)
		msg_panic("qrec_open: bad id");
	fd = openat(c->qdirfd, buf_str(&path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ELOOP)
		qrec_corrupt(c, id, "symbolic link");
	else if (fd < 0 && errno != ENOENT) {
		msg_warn("open %s: %m", buf_str(&path));
		c->st->errors++;
	}
	buf_free(&path);
	return fd;
}

/* qrec_remove - an incomplete file in incoming/: its writer died. */
static void qrec_remove(struct qrec_ctx *c, const char *id, const char *why)
{
	msg_info("%s/%s: removing incomplete queue file (%s)", queue_dir_name(c->queue), id, why);
	if (queue_remove(c->qdirfd, c->queue, id) < 0)
		c->st->errors++;
	else
		c->st->incomplete++;
}

/* qrec_verdict - parse an open file and act: keep, remove (incoming only), corrupt. */
static void qrec_verdict(struct qrec_ctx *c, const char *id, int fd, const struct stat *st)
{
	struct queue_env env;
	int r;

	if (!S_ISREG(st->st_mode)) {
		qrec_corrupt(c, id, "not a regular file");
		return;
	}
	if ((st->st_mode & 07777) != QUEUE_FILE_MODE_DONE) {
		if (c->queue == QUEUE_INCOMING)
			qrec_remove(c, id, "not marked complete");
		else
			qrec_corrupt(c, id, "not marked complete");
		return;
	}
	/*
	 * Marked complete, so its writer may have answered 250 for it: a file
	 * that ends early now lost its tail after the commit (a disk, a crash
	 * of the host, a hand). It is evidence, not garbage: corrupt/, never
	 * unlink.
	 */
	r = queue_env_read(fd, QUEUE_ENV_VERIFY, &env);
	if (r == QUEUE_ENV_OK)
		c->st->ok++;
	else if (r == QUEUE_ENV_IOERR) {
		msg_warn("%s/%s: %s", queue_dir_name(c->queue), id, buf_str(&env.why));
		c->st->errors++;
	} else
		qrec_corrupt(c, id, buf_str(&env.why));
	queue_env_free(&env);
}

/* qrec_check - steps 2 and 3: one file of incoming/, deferred/ or hold/. */
static int qrec_check(const char *id, void *ctx)
{
	struct qrec_ctx *c = ctx;
	struct stat st;
	int fd;

	if ((fd = qrec_open(c, id)) < 0)
		return 0;
	/* A writer holds the lock until commit returns: its file is not ours to judge. */
	if (c->queue == QUEUE_INCOMING && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			c->st->busy++;
		else
			c->st->errors++;
	} else if (fstat(fd, &st) < 0) {
		c->st->errors++;
	} else {
		qrec_verdict(c, id, fd, &st);
	}
	(void)close(fd);
	return 0;
}

/*
 * queue_reap_incoming - the recovery rule for one incoming/ file while qmgr
 * runs: a file that no writer holds and that is not complete was left by a
 * writer that died (a SIGKILLed cleanup): remove it; a complete one is kept.
 * 1 if it was removed, else 0.
 */
int queue_reap_incoming(int qdirfd, const char *id)
{
	struct queue_recover_stats st = { 0 };
	struct qrec_ctx c = { 0 };

	c.qdirfd = qdirfd;
	c.st = &st;
	c.queue = QUEUE_INCOMING;
	(void)qrec_check(id, &c);
	return st.incomplete > 0;
}

/* qrec_log - step 4: a bounce/ or defer/ log whose message is gone. */
static int qrec_log(const char *id, void *ctx)
{
	static const enum queue_name homes[] = {
		QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_CORRUPT,
	};
	struct qrec_ctx *c = ctx;
	size_t i;

	for (i = 0; i < sizeof(homes) / sizeof(homes[0]); i++)
		if (queue_exists(c->qdirfd, homes[i], id) != 0)
			return 0;	/* exists, or cannot tell: keep the log */
	if (queue_remove(c->qdirfd, c->queue, id) == 0)
		c->st->logs++;
	else
		c->st->errors++;
	return 0;
}

/* qrec_pass - scan one queue with fn; -1 if the directory could not be read. */
static int qrec_pass(struct qrec_ctx *c, enum queue_name queue, queue_scan_fn fn)
{
	c->queue = queue;
	return queue_scan_all(c->qdirfd, queue, fn, qrec_stray, c) < 0 ? -1 : 0;
}

/* qrec_sync - step 5: fsync changed directories, destinations first. */
static int qrec_sync(struct qrec_ctx *c)
{
	static const enum queue_name order[] = {
		QUEUE_INCOMING, QUEUE_CORRUPT, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD,
	};
	size_t i;
	int r = 0;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(c->dirty & 1u << order[i]))
			continue;
		if (iox_fsync_dirat(c->qdirfd, queue_dir_name(order[i])) < 0) {
			msg_warn("fsync queue directory %s: %m", queue_dir_name(order[i]));
			r = -1;
		}
	}
	return r;
}

/* queue_recover - make the queue consistent after a crash (see qrecover.h). */
int queue_recover(int qdirfd, struct queue_recover_stats *st)
{
	struct qrec_ctx c = { .qdirfd = qdirfd, .st = st };
	int r = 0;

	memset(st, 0, sizeof(*st));
	r |= qrec_pass(&c, QUEUE_ACTIVE, qrec_active);
	r |= qrec_pass(&c, QUEUE_INCOMING, qrec_check);
	r |= qrec_pass(&c, QUEUE_DEFERRED, qrec_check);
	r |= qrec_pass(&c, QUEUE_HOLD, qrec_check);
	r |= qrec_pass(&c, QUEUE_BOUNCE, qrec_log);
	r |= qrec_pass(&c, QUEUE_DEFER, qrec_log);
	r |= qrec_sync(&c);
	msg_info("queue recovery: %u requeued, %u incomplete removed, %u corrupt, %u busy, "
		 "%u ok, %u stray names, %u logs removed, %u errors",
		 st->requeued, st->incomplete, st->corrupt, st->busy, st->ok, st->stray,
		 st->logs, st->errors);
	return r ? -1 : 0;
}
