/*
 * event.c - epoll event loop with timers (see event.h).
 *
 * Registrations live in a table indexed by fd; removal during dispatch only
 * marks the slot free, and epoll events for a freed or re-used slot are
 * recognised by a generation counter, so a callback can never be called for
 * an fd that was removed in the same round. Timers are kept in an unsorted
 * array: stages hold a handful, not thousands.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "lib/event.h"
#include "lib/msg.h"
#include "lib/xmem.h"

struct event_reg {
	event_fn fn;
	void *ctx;
	uint32_t gen;
	int used;
};

struct event_timer {
	uint64_t id;
	int64_t when;
	event_timer_fn fn;
	void *ctx;
};

struct event_loop {
	int epfd;
	struct event_reg *regs;
	int nregs;
	uint32_t gen;
	struct event_timer *timers;
	size_t ntimers, ctimers;
	uint64_t next_timer_id;
};

int64_t event_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct event_loop *event_loop_new(void)
{
	struct event_loop *l = xcalloc(1, sizeof(*l));

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		msg_fatal("epoll_create1: %m");
	l->next_timer_id = 1;
	return l;
}

void event_loop_free(struct event_loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	xfree(l->regs);
	xfree(l->timers);
	xfree(l);
}

static uint32_t event_mask(unsigned events)
{
	return ((events & EVENT_READ) ? EPOLLIN : 0) | ((events & EVENT_WRITE) ? EPOLLOUT : 0);
}

/* event_add - watch fd; the epoll cookie carries fd and slot generation. */
int event_add(struct event_loop *l, int fd, unsigned events, event_fn fn, void *ctx)
{
	struct epoll_event ev = { 0 };

	if (fd < 0)
		msg_panic("event_add: bad fd %d", fd);
	if (fd >= l->nregs) {
		int n = fd + 64;

		l->regs = xreallocarray(l->regs, (size_t)n, sizeof(*l->regs));
		for (int i = l->nregs; i < n; i++)
			l->regs[i] = (struct event_reg){ 0 };
		l->nregs = n;
	}
	if (l->regs[fd].used)
		msg_panic("event_add: fd %d already registered", fd);
	l->regs[fd] = (struct event_reg){ fn, ctx, ++l->gen, 1 };
	ev.events = event_mask(events);
	ev.data.u64 = ((uint64_t)l->regs[fd].gen << 32) | (uint32_t)fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		l->regs[fd].used = 0;
		return -1;
	}
	return 0;
}

int event_mod(struct event_loop *l, int fd, unsigned events)
{
	struct epoll_event ev = { 0 };

	if (fd < 0 || fd >= l->nregs || !l->regs[fd].used)
		msg_panic("event_mod: fd %d not registered", fd);
	ev.events = event_mask(events);
	ev.data.u64 = ((uint64_t)l->regs[fd].gen << 32) | (uint32_t)fd;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* event_del - stop watching fd (call before closing it). */
void event_del(struct event_loop *l, int fd)
{
	if (fd < 0 || fd >= l->nregs || !l->regs[fd].used)
		return;
	l->regs[fd].used = 0;
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

uint64_t event_timer_add(struct event_loop *l, int64_t delay_ms, event_timer_fn fn, void *ctx)
{
	if (l->ntimers == l->ctimers) {
		l->ctimers = l->ctimers ? l->ctimers * 2 : 8;
		l->timers = xreallocarray(l->timers, l->ctimers, sizeof(*l->timers));
	}
	l->timers[l->ntimers] = (struct event_timer){ l->next_timer_id, event_now_ms() + delay_ms, fn, ctx };
	l->ntimers++;
	return l->next_timer_id++;
}

void event_timer_cancel(struct event_loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->ntimers];
			return;
		}
	}
}

/* event_timer_wait - ms until the earliest timer, capped by max_wait_ms. */
static int event_timer_wait(struct event_loop *l, int64_t max_wait_ms)
{
	int64_t now = event_now_ms(), wait = max_wait_ms;

	for (size_t i = 0; i < l->ntimers; i++) {
		int64_t d = l->timers[i].when - now;

		if (d < 0)
			d = 0;
		if (wait < 0 || d < wait)
			wait = d;
	}
	return wait > 86400000 ? 86400000 : (int)wait;
}

/* event_run_timers - fire every due timer once; a timer may add timers. */
static void event_run_timers(struct event_loop *l)
{
	int64_t now = event_now_ms();
	size_t i = 0;

	while (i < l->ntimers) {
		if (l->timers[i].when <= now) {
			struct event_timer t = l->timers[i];

			l->timers[i] = l->timers[--l->ntimers];
			t.fn(t.ctx);
			i = 0;
			now = event_now_ms();
			continue;
		}
		i++;
	}
}

/* event_run_once - wait up to max_wait_ms (-1: no cap) and dispatch. */
int event_run_once(struct event_loop *l, int64_t max_wait_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(l->epfd, evs, 64, event_timer_wait(l, max_wait_ms));

	if (n < 0 && errno != EINTR)
		return -1;
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		unsigned what = 0;

		if (fd >= l->nregs || !l->regs[fd].used || l->regs[fd].gen != gen)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLERR))
			what |= EVENT_READ;
		if (evs[i].events & EPOLLOUT)
			what |= EVENT_WRITE;
		if (evs[i].events & (EPOLLHUP | EPOLLRDHUP))
			what |= EVENT_HUP | EVENT_READ;
		l->regs[fd].fn(fd, what, l->regs[fd].ctx);
	}
	event_run_timers(l);
	return 0;
}
