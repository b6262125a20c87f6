/*
 * qmgr_sched.c - qmgr's scheduling core: destinations, jobs, concurrency
 * windows, dead destinations, channel capacity (see qmgr_sched.h).
 *
 * Called only by qmgr's delivery code (qmgr_deliver.c) and by the unit test.
 * Pure bookkeeping: no I/O, no clock (times are passed in), so every
 * decision is reproducible in a test. All names come from qmgr's own
 * configuration or from resolve(); the core copies what it keeps.
 */
#include <stdint.h>
#include <string.h>

#include "daemons/qmgr/qmgr_sched.h"
#include "lib/msg.h"
#include "lib/xmem.h"

#define SCHED_L_NONE	0
#define SCHED_L_RING	1
#define SCHED_L_WAIT	2	/* on its transport's list: no channel */
#define SCHED_L_PAUSE	3	/* on the pause list: its rate delay runs */

struct sched {
	struct sched_params p;
	struct sched_transport *transports;
	struct sched_dest **tab;
	size_t tabsize;		/* power of two */
	unsigned ndests;
	struct sched_dest *ring_head, *ring_tail;
	unsigned ring_len;
	struct sched_dest *paused;	/* SCHED_L_PAUSE, unordered (few) */
};

static uint64_t sched_hash(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

struct sched *sched_new(const struct sched_params *p)
{
	struct sched *s = xcalloc(1, sizeof(*s));

	s->p = *p;
	if (s->p.init_conc < 1)
		s->p.init_conc = 1;
	s->tabsize = 64;
	s->tab = xcalloc(s->tabsize, sizeof(*s->tab));
	return s;
}

static void sched_job_free(struct sched_job *j)
{
	xfree(j->idx);
	xfree(j->seen);
	xfree(j);
}

static void sched_dest_free(struct sched_dest *d)
{
	while (d->head) {
		struct sched_job *j = d->head;

		d->head = j->next;
		sched_job_free(j);
	}
	xfree(d->nexthop);
	xfree(d->dead_dsn);
	xfree(d->dead_reason);
	xfree(d);
}

void sched_free(struct sched *s)
{
	for (size_t i = 0; i < s->tabsize; i++)
		while (s->tab[i]) {
			struct sched_dest *d = s->tab[i];

			s->tab[i] = d->hnext;
			sched_dest_free(d);
		}
	while (s->transports) {
		struct sched_transport *t = s->transports;

		s->transports = t->next;
		xfree(t->name);
		xfree(t);
	}
	xfree(s->tab);
	xfree(s);
}

static struct sched_transport *sched_transport_get(struct sched *s, const char *name)
{
	struct sched_transport *t;

	for (t = s->transports; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->conc_limit = 20;
	t->rcpt_limit = 50;
	t->cap = INT32_MAX;
	if (s->p.transport_init)
		s->p.transport_init(s->p.ctx, t);
	if (t->conc_limit < 1)
		t->conc_limit = 1;
	if (t->rcpt_limit < 1)
		t->rcpt_limit = 1;
	if (t->rate_delay_ms < 0)
		t->rate_delay_ms = 0;
	if (t->rate_delay_ms > 0)
		t->conc_limit = 1;	/* no overlap: the delay is between deliveries */
	t->next = s->transports;
	s->transports = t;
	return t;
}

static void sched_grow(struct sched *s)
{
	size_t n = s->tabsize * 2;
	struct sched_dest **tab = xcalloc(n, sizeof(*tab));

	for (size_t i = 0; i < s->tabsize; i++)
		while (s->tab[i]) {
			struct sched_dest *d = s->tab[i];
			size_t k = sched_hash(d->tr->name, d->nexthop) & (n - 1);

			s->tab[i] = d->hnext;
			d->hnext = tab[k];
			tab[k] = d;
		}
	xfree(s->tab);
	s->tab = tab;
	s->tabsize = n;
}

struct sched_dest *sched_dest_find(const struct sched *s, const char *service,
				   const char *nexthop)
{
	size_t k = sched_hash(service, nexthop) & (s->tabsize - 1);

	for (struct sched_dest *d = s->tab[k]; d; d = d->hnext)
		if (strcmp(d->nexthop, nexthop) == 0 && strcmp(d->tr->name, service) == 0)
			return d;
	return NULL;
}

static struct sched_dest *sched_dest_get(struct sched *s, const char *service,
					 const char *nexthop)
{
	struct sched_dest *d = sched_dest_find(s, service, nexthop);
	size_t k;

	if (d)
		return d;
	if (s->ndests >= s->tabsize)
		sched_grow(s);
	d = xcalloc(1, sizeof(*d));
	d->tr = sched_transport_get(s, service);
	d->nexthop = xstrdup(nexthop);
	d->window = s->p.init_conc < d->tr->conc_limit ? s->p.init_conc : d->tr->conc_limit;
	k = sched_hash(service, nexthop) & (s->tabsize - 1);
	d->hnext = s->tab[k];
	s->tab[k] = d;
	s->ndests++;
	return d;
}

static void sched_dest_unlink(struct sched *s, struct sched_dest *d)
{
	size_t k = sched_hash(d->tr->name, d->nexthop) & (s->tabsize - 1);

	for (struct sched_dest **pp = &s->tab[k]; *pp; pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			s->ndests--;
			sched_dest_free(d);
			return;
		}
	msg_panic("sched: destination %s not in its table", d->nexthop);
}

static void sched_ring_push(struct sched *s, struct sched_dest *d)
{
	if (d->listed != SCHED_L_NONE)
		return;
	d->listed = SCHED_L_RING;
	d->lnext = NULL;
	if (s->ring_tail)
		s->ring_tail->lnext = d;
	else
		s->ring_head = d;
	s->ring_tail = d;
	s->ring_len++;
}

static struct sched_dest *sched_ring_pop(struct sched *s)
{
	struct sched_dest *d = s->ring_head;

	if (d == NULL)
		return NULL;
	s->ring_head = d->lnext;
	if (s->ring_head == NULL)
		s->ring_tail = NULL;
	s->ring_len--;
	d->listed = SCHED_L_NONE;
	d->lnext = NULL;
	return d;
}

static void sched_wait_push(struct sched_transport *t, struct sched_dest *d)
{
	d->listed = SCHED_L_WAIT;
	d->lnext = NULL;
	if (t->wait_tail)
		t->wait_tail->lnext = d;
	else
		t->wait_head = d;
	t->wait_tail = d;
}

/* sched_wait_wake - move up to n waiting destinations back to the ring. */
static void sched_wait_wake(struct sched *s, struct sched_transport *t, int n)
{
	while (t->wait_head && n-- > 0) {
		struct sched_dest *d = t->wait_head;

		t->wait_head = d->lnext;
		if (t->wait_head == NULL)
			t->wait_tail = NULL;
		d->listed = SCHED_L_NONE;
		sched_ring_push(s, d);
	}
}

/* sched_wait_remove - take d off its transport's wait list (rare: d died). */
static void sched_wait_remove(struct sched_transport *t, struct sched_dest *d)
{
	struct sched_dest *prev = NULL;

	for (struct sched_dest *x = t->wait_head; x; prev = x, x = x->lnext) {
		if (x != d)
			continue;
		if (prev)
			prev->lnext = d->lnext;
		else
			t->wait_head = d->lnext;
		if (t->wait_tail == d)
			t->wait_tail = prev;
		d->listed = SCHED_L_NONE;
		d->lnext = NULL;
		return;
	}
}

/* sched_pause - d has work but its rate delay runs: set it aside until next_start. */
static void sched_pause(struct sched *s, struct sched_dest *d)
{
	d->listed = SCHED_L_PAUSE;
	d->lnext = s->paused;
	s->paused = d;
}

/* sched_unpause - destinations whose rate delay is over, or that died
 * (their jobs are deferred at once), go back to the ring. */
static void sched_unpause(struct sched *s, int64_t now)
{
	for (struct sched_dest **pp = &s->paused; *pp;) {
		struct sched_dest *d = *pp;

		if (d->next_start > now && d->dead_until <= now && d->tr->dead_until <= now) {
			pp = &d->lnext;
			continue;
		}
		*pp = d->lnext;
		d->listed = SCHED_L_NONE;
		sched_ring_push(s, d);
	}
}

/* sched_list - d has queued jobs: on the ring, or paused while its delay runs. */
static void sched_list(struct sched *s, struct sched_dest *d, int64_t now)
{
	if (d->listed != SCHED_L_NONE)
		return;
	if (d->next_start > now && d->dead_until <= now)
		sched_pause(s, d);
	else
		sched_ring_push(s, d);
}

struct sched_dest *sched_add_rcpt(struct sched *s, struct sched_msg *m, const char *service,
				  const char *nexthop, uint32_t idx)
{
	struct sched_dest *d = sched_dest_get(s, service, nexthop);
	struct sched_job *j = d->tail;

	if (j == NULL || j->msg != m || j->n >= (uint32_t)d->tr->rcpt_limit) {
		j = xcalloc(1, sizeof(*j));
		j->msg = m;
		j->dest = d;
		if (d->tail)
			d->tail->next = j;
		else
			d->head = j;
		d->tail = j;
		d->nqueued++;
	}
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 4;
		j->idx = xreallocarray(j->idx, j->cap, sizeof(*j->idx));
	}
	j->idx[j->n++] = idx;
	m->todo++;
	/* a paused destination stays paused; sched_next takes it back when due */
	if (d->listed == SCHED_L_NONE)
		sched_ring_push(s, d);
	return d;
}

static struct sched_job *sched_pop_job(struct sched_dest *d)
{
	struct sched_job *j = d->head;

	d->head = j->next;
	if (d->head == NULL)
		d->tail = NULL;
	d->nqueued--;
	j->next = NULL;
	j->seen = xcalloc(j->n, 1);
	return j;
}

static int sched_tr_cap(struct sched_transport *t, int64_t now)
{
	if (t->cap != INT32_MAX && t->cap_until <= now)
		t->cap = INT32_MAX;
	return t->cap;
}

/* sched_defer_job - a job of a dead destination or transport. */
static struct sched_job *sched_defer_job(struct sched *s, struct sched_dest *d, int64_t now)
{
	struct sched_job *j = sched_pop_job(d);

	j->defer_now = 1;
	if (d->dead_until > now) {
		j->defer_dsn = d->dead_dsn;
		j->defer_reason = d->dead_reason;
	} else {
		j->defer_dsn = "4.3.0";
		j->defer_reason = "mail transport unavailable";
	}
	d->active++;
	j->msg->inflight++;
	if (d->head)
		sched_ring_push(s, d);
	return j;
}

struct sched_job *sched_next(struct sched *s, int64_t now)
{
	sched_unpause(s, now);
	for (unsigned n = s->ring_len; n > 0; n--) {
		struct sched_dest *d = sched_ring_pop(s);
		struct sched_transport *t = d->tr;
		struct sched_job *j;

		if (d->head == NULL)
			continue;
		if (d->dead_until > now || t->dead_until > now)
			return sched_defer_job(s, d, now);
		if (d->active >= d->window)
			continue;	/* listed again when one of its jobs ends */
		if (d->next_start > now) {	/* (not dead: handled above) */
			sched_pause(s, d);
			continue;
		}
		if (t->busy >= sched_tr_cap(t, now)) {
			sched_wait_push(t, d);
			continue;
		}
		j = sched_pop_job(d);
		d->active++;
		t->busy++;
		j->msg->inflight++;
		if (d->head && d->active < d->window)
			sched_ring_push(s, d);
		return j;
	}
	return NULL;
}

int64_t sched_wakeup(const struct sched *s)
{
	int64_t when = 0;

	for (struct sched_transport *t = s->transports; t; t = t->next)
		if (t->wait_head && t->cap != INT32_MAX && (when == 0 || t->cap_until < when))
			when = t->cap_until;
	for (struct sched_dest *d = s->paused; d; d = d->lnext)
		if (when == 0 || d->next_start < when)
			when = d->next_start;
	return when;
}

void sched_job_unrun(struct sched *s, struct sched_job *j)
{
	struct sched_dest *d = j->dest;

	(void)s;
	d->active--;
	d->tr->busy--;
	j->msg->inflight--;
	xfree(j->seen);
	j->seen = NULL;
	j->next = d->head;
	d->head = j;
	if (d->tail == NULL)
		d->tail = j;
	d->nqueued++;
	if (d->listed == SCHED_L_NONE)
		sched_wait_push(d->tr, d);
}

void sched_transport_denied(struct sched *s, struct sched_transport *tr, int nheld,
			    int64_t now)
{
	if (nheld <= 0) {
		tr->dead_until = now + s->p.tr_retry_ms;
		/* its waiting destinations must drain as defers now */
		sched_wait_wake(s, tr, INT32_MAX);
		return;
	}
	/* not nheld: some held channels may belong to processes about to exit */
	tr->cap = tr->busy;
	tr->cap_until = now + s->p.cap_ms;
}

void sched_transport_freed(struct sched *s, struct sched_transport *tr)
{
	tr->cap = INT32_MAX;
	sched_wait_wake(s, tr, INT32_MAX);
}

/* sched_dest_idle - nothing running or listed, and nothing to remember (dead, paused). */
static int sched_dest_idle(const struct sched_dest *d, int64_t now)
{
	return d->active == 0 && d->listed == SCHED_L_NONE && d->dead_until <= now
	       && d->next_start <= now;
}

static void sched_dest_kill(struct sched *s, struct sched_dest *d, const char *dsn,
			    const char *reason, int64_t now)
{
	xfree(d->dead_dsn);
	xfree(d->dead_reason);
	d->dead_dsn = xstrdup(dsn && dsn[0] == '4' ? dsn : "4.4.1");
	d->dead_reason = xstrdup(reason && *reason ? reason : "destination not reachable");
	d->dead_until = now + s->p.dead_ms;
	d->window = s->p.init_conc < d->tr->conc_limit ? s->p.init_conc : d->tr->conc_limit;
	if (d->listed == SCHED_L_WAIT)
		sched_wait_remove(d->tr, d);
}

void sched_job_done(struct sched *s, struct sched_job *j, int how, const char *dsn,
		    const char *reason, int64_t now)
{
	struct sched_dest *d = j->dest;
	struct sched_transport *t = d->tr;

	d->active--;
	j->msg->inflight--;
	if (j->msg->todo < j->n)
		msg_panic("sched: message todo %u below job size %u", j->msg->todo, j->n);
	j->msg->todo -= j->n;
	if (!j->defer_now) {
		t->busy--;
		sched_wait_wake(s, t, 1);
	}
	if (how == SCHED_DONE_OK) {
		d->dead_until = 0;	/* a success revives a dead destination */
		if (d->window < t->conc_limit)
			d->window++;
	} else if (how == SCHED_DONE_SITE_FAIL) {
		sched_dest_kill(s, d, dsn, reason, now);
	}
	/* a delivery ended (not a job deferred without one): the pause starts now */
	if (t->rate_delay_ms > 0 && !j->defer_now)
		d->next_start = now + t->rate_delay_ms;
	sched_job_free(j);
	if (d->head)
		sched_list(s, d, now);
	else if (sched_dest_idle(d, now))
		sched_dest_unlink(s, d);
}

void sched_sweep(struct sched *s, int64_t now)
{
	for (size_t i = 0; i < s->tabsize; i++) {
		struct sched_dest **pp = &s->tab[i];

		while (*pp) {
			struct sched_dest *d = *pp;

			if (d->head == NULL && sched_dest_idle(d, now)) {
				*pp = d->hnext;
				s->ndests--;
				sched_dest_free(d);
				continue;
			}
			pp = &d->hnext;
		}
	}
}

unsigned sched_ndests(const struct sched *s)
{
	return s->ndests;
}

/*
 * sched_backoff - Postfix's rule: wait as long as the message is old,
 * clamped to [minimal_backoff_time, maximal_backoff_time]. Since each
 * attempt comes after the previous wait, the wait roughly doubles per attempt.
 */
int64_t sched_backoff(int64_t age_s, int64_t min_s, int64_t max_s)
{
	if (age_s > max_s)
		age_s = max_s;
	if (age_s < min_s)
		age_s = min_s;
	return age_s;
}
