/*
 * stage_lookup.h - the one way a stage asks about a lookup table.
 *
 * lookup_query sends the tables' specs (as the configuration writes them:
 * one, or a parameter's list separated by '\n'), the key and the lookup
 * order to the lookup stage and waits for the answer: LOOKUP_FOUND (value
 * and matched key set), LOOKUP_NOTFOUND, LOOKUP_FAIL (a table error, or no
 * answer: the caller defers, as Postfix does on DICT_ERR) or LOOKUP_NOTABLE
 * (the lookup stage holds no such table). The channel is
 * asked of the broker on first use; when the lookup stage restarts (a table
 * changed on disk, a reload) the query is sent again once on a new
 * channel. Answers are cached until lookup_client_clear, which the caller
 * calls at the end of each SMTP transaction or message (Postfix's
 * per-request cache).
 */
#ifndef MOAT_SKELETON_STAGE_LOOKUP_H
#define MOAT_SKELETON_STAGE_LOOKUP_H

#include <stdint.h>
#include <sys/types.h>

#include "ipc/ipc.h"
#include "ipc/lookupproto.h"
#include "lib/buf.h"
#include "skeleton/lookup_cache.h"
#include "skeleton/stage.h"

#define LOOKUP_TIMEOUT	20	/* seconds to wait for an answer before LOOKUP_FAIL */

struct lookup_client {
	struct stage *st;	/* to ask the broker for channels; NULL: fixed channel */
	struct ipc_chan ch;	/* fd -1 until the first query */
	struct ipc_msg m;
	struct lookup_cache cache;
	uint32_t next_id;
};

/* lookup_client_init - a client that asks st's broker for its channel. */
void lookup_client_init(struct lookup_client *lc, struct stage *st);
/* lookup_client_adopt - a client on a channel handed over otherwise (moatctl). */
void lookup_client_adopt(struct lookup_client *lc, int fd, pid_t peer_pid);
void lookup_client_free(struct lookup_client *lc);
/* lookup_client_clear - end of a transaction or message: forget cached answers. */
void lookup_client_clear(struct lookup_client *lc);

/* lookup_answer_init/free - a->value and a->matched, bounded by the schema. */
void lookup_answer_init(struct lookup_answer *a);
void lookup_answer_free(struct lookup_answer *a);
/* lookup_query - see above; a->status is the return value. */
int lookup_query(struct lookup_client *lc, const struct lookup_key *k, struct lookup_answer *a);

#endif
