/*
 * smtp_generic.c - smtp_generic_maps: the addresses this client sends, as
 * Postfix's smtp(8) rewrites them with generic(5), before a job's first
 * session: the envelope sender (not the null sender), each recipient of
 * RCPT TO, and the addresses in the primary headers Postfix rewrites
 * (From, Sender, Reply-To, To, Cc, ... and their Resent- forms). The queue
 * file is never changed: the log and DSNs keep the original addresses,
 * ORCPT keeps the original recipient.
 *
 * A table is asked through the lookup stage in canonical(5) order
 * (user+ext@domain, user@domain, user+ext and user when the domain is
 * local, @domain); "@other" as a result keeps the local part (without the
 * extension); of a list, the first address. Answers are cached for the job
 * (lookup_client_clear at its end). A table that fails defers the job.
 *
 * Headers are rewritten in place: only the bytes of a replaced address
 * change; names, comments, folding and the body stay byte for byte. The
 * header section is read up to SMTP_GENERIC_HEAD_MAX; fields past it go
 * out unchanged.
 *
 * SECURITY: the headers and addresses come from the queue file (a remote
 * client wrote them) and the answers from the lookup stage: both are
 * parsed with bounds (mail/hdraddr.c), and a rewritten address that holds
 * a control character, or does not fit a command, is refused (deferred),
 * never written.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "daemons/smtp/smtp.h"
#include "ipc/lookupproto.h"
#include "ipc/mailproto.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "mail/hdraddr.h"
#include "mail/header.h"

#define SMTP_GENERIC_HEAD_MAX	(1024 * 1024)
#define SMTP_GENERIC_ADDR_MAX	1000	/* a longer result is refused */

/* The primary headers Postfix's smtp rewrites (sender and recipient classes). */
static char *const generic_headers[] = {
	"Apparently-To", "Bcc", "Cc", "Disposition-Notification-To", "Errors-To", "From",
	"Reply-To", "Resent-Bcc", "Resent-Cc", "Resent-From", "Resent-Reply-To",
	"Resent-Sender", "Resent-To", "Return-Receipt-To", "Sender", "To", NULL,
};

void smtp_generic_init(struct smtp_state *s, struct conf *c)
{
	char *const *items = conf_list(c, "smtp_generic_maps");

	buf_init(&s->generic, 0);
	for (size_t i = 0; items && items[i]; i++) {
		if (s->generic.len)
			(void)buf_putc(&s->generic, LOOKUP_TABLE_SEP);
		(void)buf_append_str(&s->generic, items[i]);
	}
	s->myorigin = conf_str(c, "myorigin");
	s->delim = conf_str(c, "recipient_delimiter");
}

/* generic_local - is domain ours (myorigin, mydestination, an own address)? -1: a table failed. */
static int generic_local(struct smtp_state *s, const char *domain)
{
	struct buf low = BUF_INIT;
	struct smtp_addr a = { .port = 0 };
	const char *what;
	size_t n = strlen(domain);
	int r;

	if (strcasecmp(domain, s->myorigin) == 0)
		return 1;
	if (domain[0] == '[' && n > 2 && n - 2 < sizeof(a.addr) && domain[n - 1] == ']') {
		memcpy(a.addr, domain + 1, n - 2);
		a.family = strchr(a.addr, ':') ? AF_INET6 : AF_INET;
		return smtp_guard_check(s, &a, &what) == SMTP_GUARD_SELF;
	}
	for (size_t i = 0; i < n; i++)
		(void)buf_putc(&low, tolower((unsigned char)domain[i]));
	r = resolve_domain_listed(&s->res, s->res.mydest, RESOLVE_T_MYDEST, buf_str(&low));
	buf_free(&low);
	return r;
}

/* generic_first_len - the first address of a value list (commas or white
 * space outside quotes separate them). */
static size_t generic_first_len(const char *v)
{
	size_t i = 0;
	int quoted = 0;

	for (; v[i]; i++) {
		if (v[i] == '\\' && quoted && v[i + 1])
			i++;
		else if (v[i] == '"')
			quoted = !quoted;
		else if (!quoted && (v[i] == ',' || v[i] == ' ' || v[i] == '\t'))
			break;
	}
	return i;
}

/* generic_result - the table's value for addr into out: first of a list,
 * "@domain" with addr's local part before it (its extension dropped). */
static int generic_result(struct smtp_state *s, const char *addr, const struct lookup_answer *a,
			  struct buf *out)
{
	const char *v = buf_str(&a->value), *at = strrchr(addr, '@');
	size_t vn = generic_first_len(v), user = at ? (size_t)(at - addr) : strlen(addr);
	size_t split = *s->delim ? strcspn(addr, s->delim) : user;

	if (v[vn])
		msg_warn("multi-valued smtp_generic_maps entry for %s: using the first", addr);
	buf_reset(out);
	if (vn > 0 && v[0] == '@') {
		int whole = strcasecmp(buf_str(&a->matched), addr) == 0;

		if (buf_append(out, addr, split > 0 && split < user && !whole ? split : user) < 0)
			return -1;
	}
	return buf_append(out, v, vn);
}

/*
 * generic_map - addr through smtp_generic_maps into out: 1 rewritten, 0
 * not found (out empty), -1 a table failed or the result is unusable.
 */
static int generic_map(struct smtp_state *s, const char *addr, struct buf *out)
{
	const char *at = strrchr(addr, '@');
	struct lookup_key k = { .tables = buf_str(&s->generic), .key = addr,
				.order = LOOKUP_ORDER_REWRITE, .delim = s->delim };
	struct lookup_answer a;
	int local = at ? generic_local(s, at + 1) : 1, r;

	buf_reset(out);
	if (*addr == 0 || strlen(addr) > LOOKUP_MATCHED_MAX)
		return 0;
	if (local < 0)
		return -1;
	k.flags = local ? LOOKUP_F_LOCAL : 0;
	lookup_answer_init(&a);
	r = lookup_query(&s->route.lc, &k, &a);
	if (r == LOOKUP_FOUND)
		r = generic_result(s, addr, &a, out) < 0 ? LOOKUP_FAIL : LOOKUP_FOUND;
	lookup_answer_free(&a);
	if (r == LOOKUP_FOUND && (out->len == 0 || out->len > SMTP_GENERIC_ADDR_MAX
				  || smtp_has_ctl(buf_str(out)))) {
		msg_warn("smtp_generic_maps: unusable result for %s", addr);
		return -1;
	}
	if (r != LOOKUP_FOUND && r != LOOKUP_NOTFOUND)
		msg_warn("smtp_generic_maps: table %s: lookup of %s failed", buf_str(&s->generic), addr);
	return r == LOOKUP_FOUND ? 1 : r == LOOKUP_NOTFOUND ? 0 : -1;
}

/* generic_envelope - the sender and each recipient still to deliver. */
static int generic_envelope(struct smtp_state *s, struct smtp_job *job, struct buf *tmp)
{
	int r;

	if (job->sender[0] && (r = generic_map(s, job->sender, tmp)) != 0) {
		if (r < 0)
			return -1;
		job->mail_from = xstrdup(buf_str(tmp));
	}
	for (uint32_t i = 0; i < job->nrcpt; i++) {
		if (job->rcpt[i].done)
			continue;
		if ((r = generic_map(s, job->rcpt[i].addr, tmp)) < 0)
			return -1;
		if (r)
			job->rcpt[i].send_addr = xstrdup(buf_str(tmp));
	}
	return 0;
}

/* One header field being rewritten. */
struct generic_hdr {
	struct smtp_state *s;
	const char *v;		/* the field's value bytes */
	size_t done;		/* bytes of v already copied to out */
	struct buf *out;
	struct buf addr, mapped, ext;
	int changed;
};

static int generic_span(void *ctx, size_t off, size_t len)
{
	struct generic_hdr *h = ctx;
	int r;

	if (hdraddr_internal(h->v + off, len, &h->addr) < 0)
		return 0;
	if ((r = generic_map(h->s, buf_str(&h->addr), &h->mapped)) <= 0)
		return r;
	/* a result with a quoted local part is already in header form */
	if ((strchr(buf_str(&h->mapped), '"') ? buf_set(&h->ext, h->mapped.data, h->mapped.len)
	     : hdraddr_external(buf_str(&h->mapped), &h->ext)) < 0
	    || buf_append(h->out, h->v + h->done, off - h->done) < 0
	    || buf_append(h->out, h->ext.data, h->ext.len) < 0)
		return -1;
	h->done = off + len;
	h->changed = 1;
	return 0;
}

/* generic_field - one header field (raw bytes) into out, rewritten if an address header. */
static int generic_field(struct smtp_state *s, const char *f, size_t n, struct buf *out,
			 int *changed)
{
	struct generic_hdr h = { .s = s, .out = out, .addr = BUF_INIT, .mapped = BUF_INIT,
				 .ext = BUF_INIT };
	size_t colon;
	int r = 0;

	if (header_name_len(f, n, &colon) == 0 || !header_in_list(f, n, generic_headers))
		return buf_append(out, f, n);
	h.v = f + colon + 1;
	if (buf_append(out, f, colon + 1) < 0 || hdraddr_scan(h.v, n - colon - 1, generic_span, &h) < 0
	    || buf_append(out, h.v + h.done, n - colon - 1 - h.done) < 0)
		r = -1;
	*changed |= h.changed;
	buf_free(&h.addr);
	buf_free(&h.mapped);
	buf_free(&h.ext);
	return r;
}

/* generic_field_len - the raw field at p (with its continuation lines); 0 if
 * it does not end inside n bytes (unless at_end), or the headers ended. */
static size_t generic_field_len(const char *p, size_t n, int at_end)
{
	size_t i = 0;

	if (n >= 2 && p[0] == '\r' && p[1] == '\n')
		return 0;
	for (;;) {
		const char *nl = memchr(p + i, '\n', n - i);

		if (nl == NULL)
			return at_end ? n : 0;
		i = (size_t)(nl - p) + 1;
		if (i >= n)
			return at_end ? n : 0;
		if (p[i] != ' ' && p[i] != '\t')
			return i;
	}
}

/* generic_headers_rewrite - the header section of the job's content, rewritten into job->head. */
static int generic_headers_rewrite(struct smtp_state *s, struct smtp_job *job)
{
	struct smtp_content ct = { .off = job->content_offset, .len = job->content_size,
				   .end = job->file_size };
	struct buf raw = BUF_INIT;
	size_t pos = 0, flen;
	int changed = 0, at_end, r = 0;

	if (smtp_io_head(job->fd, &ct, &raw, SMTP_GENERIC_HEAD_MAX) < 0) {
		buf_free(&raw);
		return -2;
	}
	at_end = raw.len >= job->content_size;
	buf_reset(&job->head);
	while (pos < raw.len && (flen = generic_field_len(raw.data + pos, raw.len - pos, at_end)) > 0) {
		if (header_name_len(raw.data + pos, flen, NULL) == 0)
			break;		/* not a header field: the headers ended */
		if ((r = generic_field(s, raw.data + pos, flen, &job->head, &changed)) < 0)
			break;
		pos += flen;
	}
	job->head_skip = changed ? pos : 0;
	if (!changed)
		buf_reset(&job->head);
	buf_free(&raw);
	return r;
}

int smtp_generic_job(struct smtp_state *s, struct smtp_job *job)
{
	struct buf tmp = BUF_INIT;
	int r;

	if (s->generic.len == 0)
		return 0;
	r = generic_envelope(s, job, &tmp);
	if (r == 0)
		r = generic_headers_rewrite(s, job);
	lookup_client_clear(&s->route.lc);
	buf_free(&tmp);
	if (r == -2)
		smtp_status_rest(s, job, DELIVER_DEFER, "4.3.0", "none", "error reading the queue file");
	else if (r < 0) {
		msg_warn("%s: smtp_generic_maps lookup failure", job->queue_id);
		smtp_status_rest(s, job, DELIVER_DEFER, "4.3.0", "none",
				 "smtp_generic_maps lookup failure");
	}
	return r < 0 ? -1 : 0;
}
