/*
 * policy_srv.c - the policy stage's connections to policy servers.
 *
 * One connection per endpoint, asked from the broker when needed and kept
 * for the next request (until smtpd_policy_service_max_idle without use,
 * smtpd_policy_service_max_ttl of age, or _request_limit requests).
 * Requests to one server wait in a FIFO and go one at a time: the protocol
 * has no request id, so an answer belongs to the request in flight. Each
 * attempt has smtpd_policy_service_timeout for connect, write and answer;
 * a failed attempt closes the connection (what is left on it can no longer
 * be matched) and is tried again on a new one after _retry_delay, up to
 * _try_limit attempts, then the request fails and smtpd applies its default
 * action. New connections are asked from the broker no faster than one per
 * _retry_delay after a failure.
 *
 * SECURITY: what a server sends is read into a bounded buffer; an answer
 * without "action=" or past POLICY_ANSWER_MAX, bytes before the request was
 * sent, or a control byte in the action fail the attempt. Nothing a server
 * sends is parsed beyond "name=value" lines.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/policy/policy.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/xmem.h"

struct policy_srv {
	char *endpoint;
	int fd;
	int connecting;
	int64_t opened, retry_at;
	unsigned requests;		/* answered on this connection */
	struct policy_req *head, *tail;	/* head is in flight once sent */
	int nqueue;
	size_t sent;			/* bytes of head's text written */
	struct buf in;
	uint64_t timer;			/* attempt deadline, idle close or retry */
	struct policy_srv *next;
};

static struct stage *srv_stage;
static struct event_loop *srv_loop;
static struct policy_limits srv_lim;
static struct policy_srv *srv_list;
static int srv_count;

static void srv_kick(struct policy_srv *s);

void policy_srv_init(struct stage *st, struct event_loop *loop, const struct policy_limits *l)
{
	srv_stage = st;
	srv_loop = loop;
	srv_lim = *l;
}

static void srv_timer(struct policy_srv *s, int64_t ms, event_timer_fn fn)
{
	if (s->timer)
		event_timer_cancel(srv_loop, s->timer);
	s->timer = fn ? event_timer_add(srv_loop, ms, fn, s) : 0;
}

static void srv_close(struct policy_srv *s)
{
	if (s->fd >= 0) {
		event_del(srv_loop, s->fd);
		if (close(s->fd) < 0)
			msg_warn("close policy connection %s: %m", s->endpoint);
	}
	s->fd = -1;
	s->sent = 0;
	buf_reset(&s->in);
}

/* srv_pop - the head request is over. */
static struct policy_req *srv_pop(struct policy_srv *s)
{
	struct policy_req *r = s->head;

	s->head = r->next;
	if (s->head == NULL)
		s->tail = NULL;
	s->nqueue--;
	s->sent = 0;
	return r;
}

static void srv_retry_timer(void *ctx)
{
	struct policy_srv *s = ctx;

	s->timer = 0;
	srv_kick(s);
}

/* srv_fail - the attempt at the head request failed: retry or give up. */
static void srv_fail(struct policy_srv *s, const char *why)
{
	struct policy_req *r = s->head;

	msg_warn("policy service %s: %s", s->endpoint, why);
	srv_close(s);
	s->retry_at = event_now_ms() + srv_lim.retry_delay;
	if (r && ++r->tries >= srv_lim.try_limit)
		policy_done(srv_pop(s), POLICY_FAILED, why);
	if (s->head)
		srv_timer(s, srv_lim.retry_delay, srv_retry_timer);
	else
		srv_timer(s, 0, NULL);
}

static void srv_deadline(void *ctx)
{
	struct policy_srv *s = ctx;

	s->timer = 0;
	srv_fail(s, "timeout");
}

static void srv_idle(void *ctx)
{
	struct policy_srv *s = ctx;

	s->timer = 0;
	srv_close(s);
}

/* srv_answer - the action of a complete answer (in s->in), or NULL. */
static const char *srv_answer(struct policy_srv *s)
{
	char *p = (char *)buf_str(&s->in), *action = NULL;

	for (char *line = p, *nl; (nl = strchr(line, '\n')) != NULL && nl != line; line = nl + 1) {
		*nl = 0;
		if (strncmp(line, "action=", 7) == 0)
			action = line + 7;
	}
	if (action == NULL || *action == 0)
		return NULL;
	for (const char *c = action; *c; c++)
		if ((unsigned char)*c < 32 || *c == 127)
			return NULL;
	return action;
}

static void srv_read(struct policy_srv *s)
{
	char tmp[4096];
	ssize_t n = read(s->fd, tmp, sizeof(tmp));
	const char *end, *action;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || s->head == NULL || s->sent < s->head->text.len) {
		srv_fail(s, n < 0 ? strerror(errno) : n == 0 ? "connection closed"
			 : "server talks before the request");
		return;
	}
	if (s->in.len + (size_t)n > POLICY_ANSWER_MAX || buf_append(&s->in, tmp, (size_t)n) < 0) {
		srv_fail(s, "answer too long");
		return;
	}
	if ((end = memmem(s->in.data, s->in.len, "\n\n", 2)) == NULL)
		return;
	if ((size_t)(end + 2 - (const char *)s->in.data) != s->in.len) {
		srv_fail(s, "more than one answer");
		return;
	}
	if (memchr(s->in.data, 0, s->in.len) || (action = srv_answer(s)) == NULL) {
		srv_fail(s, "malformed answer (no action=)");
		return;
	}
	policy_done(srv_pop(s), POLICY_OK, action);
	buf_reset(&s->in);
	if (srv_lim.request_limit && ++s->requests >= srv_lim.request_limit)
		srv_close(s);
	srv_kick(s);
}

static void srv_write(struct policy_srv *s)
{
	struct policy_req *r = s->head;
	ssize_t n;
	int err = 0;
	socklen_t len = sizeof(err);

	if (s->connecting) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
			srv_fail(s, err ? strerror(err) : "connect failed");
			return;
		}
		s->connecting = 0;
	}
	n = send(s->fd, r->text.data + s->sent, r->text.len - s->sent, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		srv_fail(s, strerror(errno));
		return;
	}
	s->sent += (size_t)n;
	if (s->sent == r->text.len && event_mod(srv_loop, s->fd, EVENT_READ) < 0)
		srv_fail(s, "event loop");
}

static void srv_event(int fd, unsigned events, void *ctx)
{
	struct policy_srv *s = ctx;

	(void)fd;
	if (s->head && s->sent < s->head->text.len && (events & (EVENT_WRITE | EVENT_HUP)))
		srv_write(s);
	else if (events & (EVENT_READ | EVENT_HUP))
		srv_read(s);
}

/* srv_connect - a new connection from the broker; -1 after srv_fail. */
static int srv_connect(struct policy_srv *s)
{
	struct buf why = BUF_INIT;

	s->fd = stage_policy_connect(srv_stage, s->endpoint, &why);
	if (s->fd < 0 || event_add(srv_loop, s->fd, EVENT_WRITE, srv_event, s) < 0) {
		if (s->fd >= 0 && close(s->fd) < 0)
			msg_warn("close policy connection: %m");
		s->fd = -1;
		srv_fail(s, why.len ? buf_str(&why) : "no connection");
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	s->connecting = 1;
	s->opened = event_now_ms();
	s->requests = 0;
	return 0;
}

/* srv_kick - start the head request if the server is free; else arm the idle close. */
static void srv_kick(struct policy_srv *s)
{
	int64_t now = event_now_ms();

	while (s->head && s->head->cl == NULL)	/* its smtpd is gone */
		policy_done(srv_pop(s), POLICY_FAILED, "");
	if (s->head == NULL) {
		srv_timer(s, srv_lim.max_idle, s->fd >= 0 ? srv_idle : NULL);
		return;
	}
	if (s->sent > 0 || (s->timer && s->fd < 0))
		return;		/* in flight, or waiting to retry */
	if (s->fd >= 0 && now - s->opened >= srv_lim.max_ttl)
		srv_close(s);
	if (s->fd < 0 && now < s->retry_at) {
		srv_timer(s, s->retry_at - now, srv_retry_timer);
		return;
	}
	if (s->fd < 0 && srv_connect(s) < 0)
		return;
	if (event_mod(srv_loop, s->fd, EVENT_WRITE) < 0) {
		srv_fail(s, "event loop");
		return;
	}
	srv_timer(s, srv_lim.timeout, srv_deadline);
}

static struct policy_srv *srv_find(const char *endpoint)
{
	struct policy_srv *s;

	for (s = srv_list; s; s = s->next)
		if (strcmp(s->endpoint, endpoint) == 0)
			return s;
	if (srv_count >= POLICY_SERVERS_MAX)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->endpoint = xstrdup(endpoint);
	s->fd = -1;
	buf_init(&s->in, POLICY_ANSWER_MAX + 4096);
	s->next = srv_list;
	srv_list = s;
	srv_count++;
	return s;
}

int policy_srv_submit(const char *endpoint, struct policy_req *r)
{
	struct policy_srv *s = srv_find(endpoint);

	if (s == NULL || s->nqueue >= POLICY_QUEUE_MAX)
		return -1;
	if (s->tail)
		s->tail->next = r;
	else
		s->head = r;
	s->tail = r;
	s->nqueue++;
	if (s->head == r)
		srv_kick(s);
	return 0;
}

void policy_srv_forget(struct policy_client *cl)
{
	for (struct policy_srv *s = srv_list; s; s = s->next)
		for (struct policy_req *r = s->head; r; r = r->next)
			if (r->cl == cl)
				r->cl = NULL;
}
