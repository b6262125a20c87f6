/*
 * screen_anvil.c - per-client connection counts and event rates, as
 * Postfix's anvil keeps them, for one service.
 *
 * A client (one address) has a count of its connections now (held by
 * screen or handed to an smtpd; excepted clients are never counted) and
 * three rates: connections, MAIL FROMs and RCPT TOs in the current window.
 * A window starts at the first event after the previous one ended and lasts
 * anvil_rate_time_unit; when it has ended, the next event starts a new one
 * with every rate at zero (anvil's rule, so the numbers match Postfix's).
 *
 * Entries live in a hash table keyed with SipHash and a random key: client
 * addresses are chosen by clients, and must not be able to pile into one
 * bucket. An entry goes when its count is zero and, if any rate limit is
 * set, its window has ended (a periodic sweep); the table holds at most
 * SCREEN_ANVIL_MAX entries, past which new clients are not counted (a
 * warning says so) rather than the table growing without bound.
 *
 * SECURITY: the addresses come from the kernel (getpeername), never from
 * what a client says; nothing here can be made to allocate without bound.
 */
#include <string.h>
#include <sys/random.h>

#include "daemons/screen/screen.h"
#include "ipc/screenproto.h"
#include "lib/msg.h"
#include "lib/siphash.h"
#include "lib/xmem.h"

#define SCREEN_ANVIL_BUCKETS	4096
#define SCREEN_ANVIL_MAX	100000

void screen_anvil_init(struct screen_anvil *a, int rate_unit, int keep)
{
	memset(a, 0, sizeof(*a));
	a->nbucket = SCREEN_ANVIL_BUCKETS;
	a->bucket = xcalloc(a->nbucket, sizeof(*a->bucket));
	a->max = SCREEN_ANVIL_MAX;
	a->unit_ms = (int64_t)rate_unit * 1000;
	a->keep = keep;
	if (getrandom(a->key, sizeof(a->key), 0) != (ssize_t)sizeof(a->key))
		msg_fatal("getrandom: %m");
}

static struct screen_client **anvil_slot(struct screen_anvil *a, int family,
					 const unsigned char ip[16])
{
	unsigned char k[17];

	k[0] = (unsigned char)family;
	memcpy(k + 1, ip, 16);
	return &a->bucket[siphash(a->key, k, sizeof(k)) & (a->nbucket - 1)];
}

/* anvil_window - start a new rate window if the current one has ended. */
static void anvil_window(struct screen_anvil *a, struct screen_client *c, int64_t now)
{
	if (now - c->start < a->unit_ms)
		return;
	c->start = now;
	c->conn_rate = c->mail_rate = c->rcpt_rate = 0;
}

/* screen_anvil_connect - count one more connection; NULL if the table is full. */
struct screen_client *screen_anvil_connect(struct screen_anvil *a, const struct netaddr *peer,
					   int64_t now)
{
	struct screen_client **slot = anvil_slot(a, peer->family, peer->ip), *c;

	for (c = *slot; c; c = c->next)
		if (c->family == peer->family && memcmp(c->ip, peer->ip, 16) == 0)
			break;
	if (c == NULL) {
		if (a->n >= a->max) {
			if (!a->warned++)
				msg_warn("%zu clients tracked: new clients are not counted "
					 "against the connection limits until some leave", a->n);
			return NULL;
		}
		c = xcalloc(1, sizeof(*c));
		c->family = peer->family;
		memcpy(c->ip, peer->ip, 16);
		c->start = now;
		c->next = *slot;
		*slot = c;
		a->n++;
	}
	anvil_window(a, c, now);
	c->count++;
	c->conn_rate++;
	return c;
}

/* anvil_unlink - remove and free c. */
static void anvil_unlink(struct screen_anvil *a, struct screen_client *c)
{
	struct screen_client **pp = anvil_slot(a, c->family, c->ip);

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	xfree(c);
	a->n--;
	a->warned = 0;
}

/* screen_anvil_disconnect - one connection of c ended. */
void screen_anvil_disconnect(struct screen_anvil *a, struct screen_client *c)
{
	if (c == NULL)
		return;
	if (c->count == 0)
		msg_panic("anvil: disconnect without a connection");
	if (--c->count == 0 && !a->keep)
		anvil_unlink(a, c);
}

/* screen_anvil_event - count a MAIL or RCPT of c; the rate in this window. */
uint32_t screen_anvil_event(struct screen_anvil *a, struct screen_client *c, uint32_t event,
			    int64_t now)
{
	uint32_t *r;

	if (c == NULL)
		return 0;
	anvil_window(a, c, now);
	r = event == SCREEN_RATE_MAIL ? &c->mail_rate : &c->rcpt_rate;
	if (*r < UINT32_MAX)
		(*r)++;
	return *r;
}

/* screen_anvil_sweep - drop clients with no connection whose window has ended. */
void screen_anvil_sweep(struct screen_anvil *a, int64_t now)
{
	for (size_t i = 0; i < a->nbucket; i++) {
		struct screen_client **pp = &a->bucket[i];

		while (*pp) {
			struct screen_client *c = *pp;

			if (c->count == 0 && now - c->start >= a->unit_ms) {
				*pp = c->next;
				xfree(c);
				a->n--;
				a->warned = 0;
			} else {
				pp = &c->next;
			}
		}
	}
}
