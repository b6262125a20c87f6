/*
 * cleanup_canon.c - canonical(5) rewriting of one address (see
 * cleanup_canon.h), asked of the lookup stage.
 *
 * Postfix semantics kept: keys in canonical(5) order (user+ext@domain,
 * user@domain, then user+ext and user only when the domain is $myorigin
 * or in $mydestination, then @domain; pattern tables see the whole
 * address only); a result "@otherdomain" keeps the original user; an
 * extension the table did not match is put back into the result when
 * propagate_unmatched_extensions names canonical; the mapping is applied
 * again to its result, at most 10 times, and stops when a table maps an
 * address to itself; a result of several addresses keeps the first, with
 * a warning; a result without a domain gets @$myorigin, as trivial-rewrite
 * would give it. An address without '@' is not looked up (moat does not
 * append $myorigin to incomplete addresses).
 *
 * Where moat is stricter: a result that is no address the queue file may
 * hold (cleanup_addr_bad: control characters, bad syntax, too long, 8-bit
 * without SMTPUTF8) and a mapping nested more than 10 deep fail the
 * message with 451 4.3.0, as a table error does.
 *
 * SECURITY: the address is the client's and the table's answer comes from
 * the lookup stage, which may be compromised: both are bounded (the
 * lookup schema, ADDR_PATH_MAX for what is asked) and every result is
 * checked as an envelope address before it replaces anything.
 */
#include <string.h>
#include <strings.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/lookupproto.h"
#include "lib/msg.h"
#include "mail/addr.h"
#include "mail/addr_ext.h"
#include "skeleton/stage_lookup.h"

#define CANON_RECURSION	10	/* Postfix's MAX_RECURSION */

static const char *const canon_param[CANON_NMAPS] = {
	[CANON_SENDER] = "sender_canonical_maps",
	[CANON_RECIPIENT] = "recipient_canonical_maps",
	[CANON_COMMON] = "canonical_maps",
};

void cleanup_rw_init(struct cleanup_rw *rw)
{
	rw->hdr_rewrite = 0;
	buf_init(&rw->addr, 0);
	buf_init(&rw->key, 0);
	buf_init(&rw->out, 0);
	buf_init(&rw->bcc_seen, 0);
}

void cleanup_rw_free(struct cleanup_rw *rw)
{
	buf_free(&rw->addr);
	buf_free(&rw->key);
	buf_free(&rw->out);
	buf_free(&rw->bcc_seen);
}

void cleanup_rw_reset(struct cleanup_rw *rw)
{
	rw->hdr_rewrite = 0;
	buf_reset(&rw->bcc_seen);
}

/* canon_defer - a rewriting that could not be done: the message waits. */
static int canon_defer(struct cleanup_msg *cm, const char *param, const char *addr,
		       const char *why)
{
	msg_warn("%s: %s map lookup problem for %.300s (%s) -- message not accepted, try again "
		 "later", cm->qid, param, addr, why);
	cleanup_fail(cm, 451, "4.3.0 Error: temporary failure of address rewriting");
	cm->check |= CM_CHECK_LOGGED;
	return -1;
}

/* canon_local - is addr's domain $myorigin or in $mydestination (the "user" keys)? */
static int canon_local(const struct canon_params *p, const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && (strcasecmp(at + 1, p->myorigin) == 0 || domlist_match(&p->mydest, at + 1));
}

/*
 * canon_ask - addr in the tables; LOOKUP_* status, the answer in a. A
 * message already failed asks nothing more (its answer would not be used).
 */
static int canon_ask(struct cleanup_msg *cm, const char *tables, const char *addr,
		     struct lookup_answer *a)
{
	const struct canon_params *p = &cm->cfg->canon;
	struct lookup_key k = {
		.tables = tables, .key = addr, .order = LOOKUP_ORDER_REWRITE,
		.flags = canon_local(p, addr) ? LOOKUP_F_LOCAL : 0, .delim = p->delim,
	};

	if (cm->cfg->canon_lc == NULL)
		return LOOKUP_FAIL;
	return lookup_query(cm->cfg->canon_lc, &k, a);
}

/* canon_first - the first address of a table's answer, without angle brackets. */
static int canon_first(const char *value, struct buf *out)
{
	const char *p = value + strspn(value, " \t,");
	size_t n = strcspn(p, " \t,");

	if (n >= 2 && p[0] == '<' && p[n - 1] == '>') {
		p++;
		n -= 2;
	}
	buf_set(out, p, n);
	p += n;
	return p[strspn(p, " \t,")] != 0;	/* more follow */
}

/*
 * canon_result - what addr becomes when the tables answered value for the
 * key matched: @domain results, unmatched extensions, a missing domain.
 */
static void canon_result(const struct canon_params *p, const char *addr, const char *value,
			 const char *matched, struct buf *out)
{
	const char *at = strrchr(addr, '@');
	size_t lp = at ? (size_t)(at - addr) : strlen(addr);
	size_t user = addr_ext_split(addr, p->delim);
	/* the extension was matched if the whole address or the whole localpart was */
	int unmatched = user > 0 && strcasecmp(matched, addr) != 0
			&& !(strlen(matched) == lp && strncasecmp(matched, addr, lp) == 0);
	struct buf first = BUF_INIT;
	const char *rat;

	(void)canon_first(value, &first);
	buf_reset(out);
	if (first.len && first.data[0] == '@')
		buf_append(out, addr, unmatched ? user : lp);
	buf_append(out, first.data, first.len);
	if (strchr(buf_str(out), '@') == NULL && *p->myorigin)
		buf_printf(out, "@%s", p->myorigin);
	if (unmatched && p->propagate && (rat = strrchr(buf_str(out), '@')) != NULL) {
		size_t pos = (size_t)(rat - out->data);
		struct buf tail = BUF_INIT;

		buf_set_str(&tail, rat);
		buf_truncate(out, pos);
		buf_append(out, addr + user, lp - user);
		buf_append(out, tail.data, tail.len);
		buf_free(&tail);
	}
	buf_free(&first);
}

/* canon_map11 - one canonical parameter on addr, applied to its own results (cleanup_map11). */
static int canon_map11(struct cleanup_msg *cm, enum canon_which which, struct buf *addr)
{
	const struct canon_params *p = &cm->cfg->canon;
	struct lookup_answer a;
	struct buf next = BUF_INIT;
	int r = 0, self = 0;
	const char *bad;

	lookup_answer_init(&a);
	for (int n = 0; r == 0 && !self; n++) {
		if (n == CANON_RECURSION) {
			r = canon_defer(cm, canon_param[which], buf_str(addr), "unreasonable nesting");
			break;
		}
		switch (canon_ask(cm, p->maps[which], buf_str(addr), &a)) {
		case LOOKUP_FOUND:
			break;
		case LOOKUP_NOTFOUND:
			self = 1;
			continue;
		default:
			r = canon_defer(cm, canon_param[which], buf_str(addr), "table failed");
			continue;
		}
		if (canon_first(buf_str(&a.value), &next))
			msg_warn("%s: multi-valued %s entry for %.300s", cm->qid, canon_param[which],
				 buf_str(addr));
		canon_result(p, buf_str(addr), buf_str(&a.value), buf_str(&a.matched), &next);
		if ((bad = cleanup_addr_bad(buf_str(&next), cm->flags)) != NULL || next.len == 0) {
			r = canon_defer(cm, canon_param[which], buf_str(addr), bad ? bad : "empty result");
			continue;
		}
		self = strcasecmp(buf_str(&next), buf_str(addr)) == 0;
		buf_set(addr, next.data, next.len);
	}
	lookup_answer_free(&a);
	buf_free(&next);
	return r;
}

int cleanup_canon_addr(struct cleanup_msg *cm, unsigned cls, struct buf *addr)
{
	const struct canon_params *p = &cm->cfg->canon;
	enum canon_which own = (cls & (CANON_ENV_FROM | CANON_HDR_FROM)) ? CANON_SENDER
			       : CANON_RECIPIENT;
	const enum canon_which order[] = { own, CANON_COMMON };

	if (cm->status != 0 || strchr(buf_str(addr), '@') == NULL)
		return cm->status != 0 ? -1 : 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (p->maps[order[i]] && (p->classes[order[i]] & cls)
		    && canon_map11(cm, order[i], addr) < 0)
			return -1;
	if (p->masq_domains && (p->masq_classes & cls))
		(void)cleanup_masq(p, addr);
	return 0;
}
