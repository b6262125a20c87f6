/*
 * grants.c - the channels the broker granted, and which are still open.
 *
 * The broker's own count of who serves whom: how many open channels a
 * process serves (its load, for picking the next one), how many a client
 * holds to a service (its limit), and whether two processes were ever joined
 * (what makes a violation report believable). Whether a channel is open is
 * asked of the kernel (lib/unixdiag.h) about the socket the broker handed
 * the server, and only when a count is needed; nothing a stage reports about
 * itself enters these counts.
 *
 * A channel whose state cannot be learnt (the netlink socket failed) counts
 * as open: a wrong "open" only makes the broker start another process or
 * deny a request, a wrong "closed" could give one process every channel.
 */
#include <errno.h>
#include <sys/stat.h>

#include "daemons/broker/broker.h"
#include "lib/unixdiag.h"
#include "lib/xmem.h"

/* broker_grant_add - remember a channel from client to server (server_fd: its end). */
void broker_grant_add(struct broker *b, struct child *client, struct child *server, int server_fd)
{
	struct grant *g, **pp;
	struct stat st;

	if (fstat(server_fd, &st) < 0) {
		msg_warn("grant: fstat: %m");
		st.st_ino = 0;
	}
	/* a closed grant between the same two only says "joined": the new one says it too */
	for (pp = &b->grants; (g = *pp) != NULL;) {
		if (!g->open && g->client == client && g->server == server) {
			*pp = g->next;
			xfree(g);
		} else {
			pp = &g->next;
		}
	}
	g = xcalloc(1, sizeof(*g));
	g->client = client;
	g->server = server;
	g->ino = st.st_ino;
	g->open = 1;
	g->next = b->grants;
	b->grants = g;
}

/* grant_is_open - ask the kernel, once per grant until it is seen closed. */
static int grant_is_open(struct broker *b, struct grant *g)
{
	static int warned;
	int r;

	if (!g->open)
		return 0;
	if (g->ino == 0 || b->diagfd < 0)
		return 1;
	if ((r = unixdiag_is_open(b->diagfd, g->ino)) < 0) {
		if (!warned++)
			msg_warn("sock_diag: %m: granted channels count as open until they end");
		return 1;
	}
	g->open = r;
	return r;
}

/* broker_grant_served - open channels server serves (granted, not yet closed). */
int broker_grant_served(struct broker *b, const struct child *server)
{
	int n = 0;

	for (struct grant *g = b->grants; g; g = g->next)
		if (g->server == server && grant_is_open(b, g))
			n++;
	return n;
}

/* broker_grant_held - open channels client holds to processes of svc. */
int broker_grant_held(struct broker *b, const struct child *client, const struct service *svc)
{
	int n = 0;

	for (struct grant *g = b->grants; g; g = g->next)
		if (g->client == client && g->server->svc == svc && grant_is_open(b, g))
			n++;
	return n;
}

/* broker_grant_between - 1 if the broker ever joined x and y (either way). */
int broker_grant_between(const struct broker *b, const struct child *x, const struct child *y)
{
	for (const struct grant *g = b->grants; g; g = g->next)
		if ((g->client == x && g->server == y) || (g->client == y && g->server == x))
			return 1;
	return 0;
}

/* broker_grant_forget - c is gone: so are its grants, either side. */
void broker_grant_forget(struct broker *b, const struct child *c)
{
	struct grant *g, **pp;

	for (pp = &b->grants; (g = *pp) != NULL;) {
		if (g->client == c || g->server == c) {
			*pp = g->next;
			xfree(g);
		} else {
			pp = &g->next;
		}
	}
}
