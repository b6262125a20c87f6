/*
 * qenv_priv.h - between the envelope parser's driver (qenv.c) and its field
 * decoders (qenv_rec.c). Not for use outside queue/.
 */
#ifndef MOAT_QUEUE_QENV_PRIV_H
#define MOAT_QUEUE_QENV_PRIV_H

#include <sys/types.h>

#include "queue/qenv.h"
#include "queue/record.h"

int qenv_bad(struct queue_env *env, int result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int qenv_rec_time(struct queue_env *env, const struct record *rec);
int qenv_rec_sender(struct queue_env *env, const struct record *rec);
int qenv_rec_attr(struct queue_env *env, const struct record *rec, off_t base);
int qenv_rec_rcpt(struct queue_env *env, const struct record *rec, off_t base);

#endif
