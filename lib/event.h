/*
 * event.h - a small epoll event loop with one-shot timers.
 *
 * Used by long-running stages that serve many channels or clients at once
 * (screen, log, cleanup, qmgr, bounce, dns) and by the broker. Callbacks may add or remove any fd or
 * timer, including their own, while the loop dispatches.
 */
#ifndef MOAT_LIB_EVENT_H
#define MOAT_LIB_EVENT_H

#include <stdint.h>

#define EVENT_READ	0x1
#define EVENT_WRITE	0x2
#define EVENT_HUP	0x4	/* reported, never requested */

typedef void (*event_fn)(int fd, unsigned events, void *ctx);
typedef void (*event_timer_fn)(void *ctx);

struct event_loop;

struct event_loop *event_loop_new(void);
void event_loop_free(struct event_loop *l);
int event_add(struct event_loop *l, int fd, unsigned events, event_fn fn, void *ctx);
int event_mod(struct event_loop *l, int fd, unsigned events);
void event_del(struct event_loop *l, int fd);
uint64_t event_timer_add(struct event_loop *l, int64_t delay_ms, event_timer_fn fn, void *ctx);
void event_timer_cancel(struct event_loop *l, uint64_t id);
int event_run_once(struct event_loop *l, int64_t max_wait_ms);
int64_t event_now_ms(void);

#endif
