/*
 * qmgr_dup.c - one delivery per address per message.
 *
 * A queue file may hold several recipient records with one address: two
 * original recipients that virtual_alias_maps sends to the same place
 * (cleanup keeps a record per original recipient while
 * enable_original_recipient is on, as Postfix's cleanup does, so that each
 * keeps its own log line and DSN), or every recipient of a message that a
 * REDIRECT action sent to one address. Postfix's qmgr assigns every
 * record to the delivery (its REDIRECT keeps only the first recipient),
 * so a next hop that does not drop duplicates itself would deliver twice.
 * moat names the address once: the first record
 * routed to a destination goes into the job, and each later record with
 * the same address (case folded, as cleanup's duplicate filter compares)
 * and the same route becomes its shadow. When the first record's outcome
 * arrives, every shadow gets the same outcome: its own done mark,
 * defer/bounce entry and log line (with its orig_to).
 *
 * Never: a shadow is settled only by the outcome of the record whose
 * delivery it shares; a record routed elsewhere is delivered on its own;
 * records already done in the file take no part.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemons/qmgr/qmgr.h"
#include "ipc/mailproto.h"
#include "lib/xmem.h"

static int dup_cmp(const void *a, const void *b, void *ctx)
{
	const struct queue_env *env = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = strcasecmp(env->rcpts[x].addr, env->rcpts[y].addr);

	return r ? r : (x > y) - (x < y);
}

void qmgr_dup_group(struct qmgr_msg *m)
{
	uint32_t *ord = xcalloc(m->env.nrcpts + 1, sizeof(*ord));
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->env.nrcpts; i++) {
		m->r[i].dup_next = QMGR_NO_DUP;
		m->r[i].first = i;
		if (!m->env.rcpts[i].done)
			ord[n++] = i;
	}
	/* sorted by address, then by index: each group is a chain in file order */
	qsort_r(ord, n, sizeof(*ord), dup_cmp, &m->env);
	for (uint32_t k = 1; k < n; k++)
		if (strcasecmp(m->env.rcpts[ord[k - 1]].addr, m->env.rcpts[ord[k]].addr) == 0) {
			m->r[ord[k - 1]].dup_next = ord[k];
			m->r[ord[k]].first = m->r[ord[k - 1]].first;
		}
	xfree(ord);
}

int qmgr_dup_shadow(struct qmgr_msg *m, uint32_t i, const char *service, const char *nexthop)
{
	for (uint32_t k = m->r[i].first; k != i && k != QMGR_NO_DUP; k = m->r[k].dup_next) {
		const struct sched_dest *d = m->r[k].dest;

		if (m->r[k].shadow || d == NULL || strcmp(d->tr->name, service) != 0
		    || strcmp(d->nexthop, nexthop) != 0)
			continue;
		m->r[i].shadow = 1;
		m->r[i].first = k;
		return 1;
	}
	return 0;
}

void qmgr_dup_settle(struct qmgr_msg *m, uint32_t i, uint32_t status, const char *dsn,
		     const char *reason, const char *relay)
{
	for (uint32_t k = m->r[i].dup_next; k != QMGR_NO_DUP; k = m->r[k].dup_next) {
		if (!m->r[k].shadow || m->r[k].first != i)
			continue;
		switch (status) {
		case DELIVER_SENT:
			qmgr_rcpt_sent(m, k);
			qmgr_log_rcpt(m, k, "sent", dsn, reason, relay);
			break;
		case DELIVER_BOUNCE:
			qmgr_rcpt_bounce(m, k, dsn, reason, relay, 1);
			break;
		default:
			qmgr_rcpt_defer(m, k, dsn, reason, relay, 1);
			break;
		}
	}
}
