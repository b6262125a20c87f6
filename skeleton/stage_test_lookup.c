/*
 * stage_test_lookup.c - a compromised stage against the lookup stage (test
 * build only, see stage_test.c): what it sends on a lookup channel, and a
 * client loop that shows a real stage's lookups survive a lookup restart.
 *
 * Actions (MOAT_TEST_ATTACK="cleanup:lookup-...", any stage with a lookup edge):
 *   lookup-notable      a well-formed query about a table nobody configured
 *   lookup-hugekey      a query whose key is past the schema's bound
 *   lookup-garbage      bytes that are no message
 *   lookup-order        a query with an order the protocol does not have
 *   lookup-loop=T=K     ask table T for key K twice a second for 60 s through
 *                       the client API (lookup_query), noting every change of
 *                       answer ("lookup-loop answer <status> <value>")
 * The first four return -1 (attack failed) with ENOENT for a LOOKUP_NOTABLE
 * reply and ECONNRESET for a cut channel; 0 if the lookup stage answered.
 */
#include "skeleton/stage_test.h"

#ifdef MOAT_TEST_HOOKS
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/msg.h"
#include "skeleton/stage.h"
#include "skeleton/stage_lookup.h"

/* test_lookup_chan - a lookup channel from the broker, with a 10 s read bound. */
static int test_lookup_chan(struct stage *st, struct ipc_chan *ch)
{
	struct timeval tv = { 10, 0 };
	pid_t pid = 0;
	int fd = stage_request_peer(st, "lookup", &pid);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	ipc_chan_init(ch, fd, IPC_CHAN_LOOKUP, IPC_SIDE_A, "lookup", pid);
	return ipc_chan_hello(ch);
}

/* test_lookup_raw - the hello, then one packet of our own making. */
static int test_lookup_raw(struct ipc_chan *ch, const void *pkt, size_t len)
{
	return send(ch->fd, pkt, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* test_lookup_hugekey - MSG_LOOKUP_QUERY by hand, key one byte past LOOKUP_KEY_MAX. */
static int test_lookup_hugekey(struct ipc_chan *ch)
{
	struct buf p = BUF_INIT;
	uint32_t klen = LOOKUP_KEY_MAX + 1, zero = 0, tlen = 8;
	uint16_t type = MSG_LOOKUP_QUERY;
	int r;

	(void)buf_append(&p, &type, 2);			/* little-endian hosts only (x86, arm) */
	(void)buf_append(&p, &zero, 4);			/* id */
	(void)buf_append(&p, &tlen, 4);
	(void)buf_append(&p, "static:x", 8);		/* tables */
	(void)buf_append(&p, &zero, 4);			/* order */
	(void)buf_append(&p, &zero, 4);			/* flags */
	(void)buf_append(&p, &zero, 4);			/* delim "" */
	(void)buf_append(&p, &klen, 4);
	for (uint32_t i = 0; i < klen; i++)
		(void)buf_putc(&p, 'k');
	r = test_lookup_raw(ch, p.data, p.len);
	buf_free(&p);
	return r;
}

/* test_lookup_outcome - what came back: a reply (0), NOTABLE (-1 ENOENT), a cut (-1 ECONNRESET). */
static int test_lookup_outcome(struct ipc_chan *ch)
{
	struct ipc_msg m;
	int r;

	ipc_msg_init(&m);
	r = ipc_chan_recv(ch, &m);
	if (r == IPC_RECV_MSG && m.u.lookup_reply.status == LOOKUP_NOTABLE) {
		errno = ENOENT;
		r = -1;
	} else if (r == IPC_RECV_MSG) {
		r = 0;
	} else {
		errno = ECONNRESET;
		r = -1;
	}
	ipc_msg_free(&m);
	return r;
}

static int test_lookup_send(struct ipc_chan *ch, const char *action)
{
	static const char garbage[] = "\xff\xfe this is no message \x00\x01";
	struct ipc_lookup_query q = { .tables = "hash:/etc/nobody-configured-this", .key = "k",
				      .delim = "" };

	if (strcmp(action, "lookup-notable") == 0)
		return ipc_chan_send(ch, MSG_LOOKUP_QUERY, &q);
	if (strcmp(action, "lookup-hugekey") == 0)
		return test_lookup_hugekey(ch);
	if (strcmp(action, "lookup-garbage") == 0)
		return test_lookup_raw(ch, garbage, sizeof(garbage));
	if (strcmp(action, "lookup-order") == 0) {
		q.order = 99;
		return ipc_chan_send(ch, MSG_LOOKUP_QUERY, &q);
	}
	errno = EINVAL;
	return -1;
}

/* test_lookup_loop - "lookup-loop=table=key": the client API across lookup restarts. */
static int test_lookup_loop(struct stage *st, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct buf table = BUF_INIT, last = BUF_INIT;
	struct lookup_answer a;
	struct timespec half = { 0, 500 * 1000 * 1000 };
	struct lookup_client lc;
	int r, last_r = -1000;

	if (eq == NULL) {
		errno = EINVAL;
		return -1;
	}
	(void)buf_append(&table, arg, (size_t)(eq - arg));
	lookup_client_init(&lc, st);
	lookup_answer_init(&a);
	for (int i = 0; i < 120; i++) {
		struct lookup_key k = { .tables = buf_str(&table), .key = eq + 1, .delim = "" };

		r = lookup_query(&lc, &k, &a);
		if (r != last_r || strcmp(buf_str(&a.value), buf_str(&last)) != 0)
			msg_info("lookup-loop answer %d %s", r, r == LOOKUP_FOUND ? buf_str(&a.value) : "");
		last_r = r;
		(void)buf_set_str(&last, buf_str(&a.value));
		lookup_client_clear(&lc);
		nanosleep(&half, NULL);
	}
	lookup_client_free(&lc);
	lookup_answer_free(&a);
	buf_free(&table);
	buf_free(&last);
	return 0;
}

int stage_test_lookup(struct stage *st, const char *action)
{
	struct ipc_chan ch;
	int r;

	if (strncmp(action, "lookup-loop=", 12) == 0)
		return test_lookup_loop(st, action + 12);
	if (test_lookup_chan(st, &ch) < 0)
		return -1;
	r = test_lookup_send(&ch, action);
	if (r == 0)
		r = test_lookup_outcome(&ch);
	int saved = errno;

	ipc_chan_close(&ch);
	errno = saved;
	return r;
}
#endif
