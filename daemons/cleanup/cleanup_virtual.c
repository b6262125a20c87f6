/*
 * cleanup_virtual.c - virtual alias expansion and the recipient duplicate
 * filter (cleanup_virtual.h), as Postfix's cleanup does them before a
 * recipient reaches the queue file.
 *
 * Called by cleanup_msg.c for each envelope recipient (MSG_CLEANUP_RCPT)
 * and for the BCC recipients of header_checks. The addresses are looked up
 * through the lookup stage in virtual(5) order (user+ext@domain,
 * user@domain, user+ext and user when the domain is $myorigin or in
 * $mydestination, @domain). Postfix semantics kept: a result is a list of
 * addresses separated by commas or blanks; "@other" keeps the localpart;
 * a result without a domain gets @$myorigin; an extension the matching key
 * did not carry is propagated to each result when
 * propagate_unmatched_extensions names virtual (its default), else it is
 * dropped, from "@other" results too; an address that appears in
 * its own expansion is not expanded again (that is how recursion stops);
 * the duplicate filter drops a recipient whose address, original
 * recipient, ORCPT and NOTIFY were all written already (case folded, as
 * been_here), remembering at most duplicate_filter_limit of them; NOTIFY
 * loses SUCCESS when an address was expanded (Postfix's option (b) of RFC
 * 3461; moat sends no "expanded" DSN).
 *
 * Where moat differs: a result that is not a valid address (bad syntax,
 * control characters, over 254 bytes, 8-bit without SMTPUTF8) defers the
 * message instead of queueing it; quoted localparts holding commas or
 * blanks cannot be written in a result.
 *
 * SECURITY: the recipient is the client's and the table's answer is text
 * from the lookup stage (which may be compromised): the answer is split
 * and each address checked by cleanup_addr_bad before it is used; the
 * number of lookups per recipient is bounded by the recursion limit times
 * the expansion limit, the list by the expansion limit, the duplicate
 * filter by duplicate_filter_limit (SipHash with a random key: a client
 * cannot aim its recipients at one chain). Nothing here opens a table.
 */
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "conf/conf.h"
#include "daemons/cleanup/cleanup_msg.h"
#include "daemons/cleanup/cleanup_virtual.h"
#include "ipc/lookupproto.h"
#include "lib/msg.h"
#include "lib/siphash.h"
#include "lib/xmem.h"
#include "skeleton/stage_lookup.h"

#define VIRT_TITLE	"virtual_alias_maps"

/* The expansion of one recipient: owned strings. */
struct virt_list {
	char **v;
	size_t n, cap;
};

/* virt_is_spec - "type:name" or "/file": not a domain name of mydestination. */
static int virt_is_spec(const char *s)
{
	return s[0] == '/' || strchr(s, ':') != NULL;
}

void cleanup_virtual_configure(struct cleanup_virtual_cfg *v, const struct conf *c,
			       struct lookup_client *lc)
{
	char *const *maps = conf_list(c, "virtual_alias_maps");
	char *const *dest = conf_list(c, "mydestination");
	struct buf b = BUF_INIT, err = BUF_INIT;
	size_t n = 0;
	char **names;

	for (size_t i = 0; maps && maps[i]; i++) {
		if (i > 0)
			buf_putc(&b, LOOKUP_TABLE_SEP);
		buf_append_str(&b, maps[i]);
	}
	v->tables = b.len ? buf_steal(&b) : NULL;
	buf_free(&b);
	v->lc = v->tables ? lc : NULL;
	v->delim = conf_str(c, "recipient_delimiter");
	v->myorigin = conf_str(c, "myorigin");
	v->recursion_limit = (unsigned)conf_int(c, "virtual_alias_recursion_limit");
	v->expansion_limit = (size_t)conf_int(c, "virtual_alias_expansion_limit");
	v->dup_limit = (size_t)conf_int(c, "duplicate_filter_limit");
	v->propagate = 0;
	for (char *const *e = conf_list(c, "propagate_unmatched_extensions"); e && *e; e++)
		v->propagate |= strcmp(*e, "virtual") == 0;
	while (dest && dest[n])
		n++;
	names = xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0, k = 0; i < n; i++)
		if (!virt_is_spec(dest[i]))
			names[k++] = dest[i];
	if (domlist_init(&v->mydest, names, 0, &err) < 0)
		msg_fatal("mydestination: %s", buf_str(&err));
	xfree(names);
	buf_free(&err);
}

/* --- the duplicate filter --- */

void cleanup_virtual_seen_init(struct cleanup_virtual_seen *s)
{
	memset(s, 0, sizeof(*s));
	if (getrandom(s->seed, sizeof(s->seed), 0) != (ssize_t)sizeof(s->seed))
		msg_fatal("getrandom: %m");
}

void cleanup_virtual_seen_reset(struct cleanup_virtual_seen *s)
{
	for (size_t i = 0; i < s->cap; i++) {
		xfree(s->slot[i]);
		s->slot[i] = NULL;
	}
	s->n = 0;
}

void cleanup_virtual_seen_free(struct cleanup_virtual_seen *s)
{
	cleanup_virtual_seen_reset(s);
	xfree(s->slot);
	s->slot = NULL;
	s->cap = 0;
}

/* seen_slot - where key is, or the empty slot it would take. */
static size_t seen_slot(const struct cleanup_virtual_seen *s, const char *key)
{
	size_t i = (size_t)siphash(s->seed, key, strlen(key)) & (s->cap - 1);

	while (s->slot[i] && strcmp(s->slot[i], key) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static void seen_grow(struct cleanup_virtual_seen *s)
{
	char **old = s->slot;
	size_t oldcap = s->cap;

	s->cap = oldcap ? oldcap * 2 : 64;
	s->slot = xcalloc(s->cap, sizeof(*s->slot));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			s->slot[seen_slot(s, old[i])] = old[i];
	xfree(old);
}

/* seen_add - 1 if key was there already; else remembered while there is room (limit 0: always). */
static int seen_add(struct cleanup_virtual_seen *s, size_t limit, const char *key)
{
	size_t i;

	if (s->cap && s->slot[seen_slot(s, key)])
		return 1;
	if (limit > 0 && s->n >= limit)
		return 0;	/* full: Postfix's filter forgets too */
	if (2 * (s->n + 1) > s->cap)
		seen_grow(s);
	i = seen_slot(s, key);
	s->slot[i] = xstrdup(key);
	s->n++;
	return 0;
}

/* --- the expansion --- */

static void virt_list_add(struct virt_list *l, const char *addr)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(addr);
}

static void virt_list_free(struct virt_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		xfree(l->v[i]);
	xfree(l->v);
	memset(l, 0, sizeof(*l));
}

static int virt_list_has(const struct virt_list *l, const char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], addr) == 0)
			return 1;
	return 0;
}

/* virt_defer - the expansion cannot be finished: the whole message waits. */
static void virt_defer(struct cleanup_msg *cm, const char *dsn_text, const char *fmt,
		       const char *what)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, fmt, what);
	msg_warn("%s: %s -- message not accepted, try again later", cm->qid, buf_str(&line));
	cleanup_fail(cm, 451, dsn_text);
	buf_free(&line);
}

/* virt_local - is the domain one whose "user" keys count ($myorigin, mydestination)? */
static int virt_local(const struct cleanup_virtual_cfg *v, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL)
		return 1;
	return strcasecmp(at + 1, v->myorigin) == 0 || domlist_match(&v->mydest, at + 1);
}

/*
 * virt_ext_split - where the extension of localpart (of length n) starts,
 * as the lookup keys split it (maps/map_keys.h), or n if it has none.
 */
static size_t virt_ext_split(const char *local, size_t n, const char *delims)
{
	static const char *const whole[] = { "postmaster", "mailer-daemon", "double-bounce" };
	size_t i;

	if (*delims == 0)
		return n;
	for (size_t k = 0; k < sizeof(whole) / sizeof(whole[0]); k++)
		if (strlen(whole[k]) == n && strncasecmp(local, whole[k], n) == 0)
			return n;
	for (i = 1; i < n && strchr(delims, local[i]) == NULL; i++)
		;
	if (i < n && local[i] == '-'
	    && (strncasecmp(local, "owner-", 6) == 0
		|| (n >= 8 && strncasecmp(local + n - 8, "-request", 8) == 0)))
		return n;
	return i;
}

/* virt_ext - the extension the matching key did not carry: offset in addr, or localpart end. */
static size_t virt_ext(const struct cleanup_virtual_cfg *v, const char *addr, const char *matched)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);
	const char *mat = strrchr(matched, '@');
	size_t m = mat ? (size_t)(mat - matched) : strlen(matched);

	if (matched[0] == '@')
		return virt_ext_split(addr, n, v->delim);
	if (m < n && strchr(v->delim, addr[m]) != NULL && strncasecmp(addr, matched, m) == 0)
		return m;
	return n;
}

/*
 * virt_result - one address of a table's answer, completed as Postfix
 * does ("@other", no domain, the extension) into out; NULL, or why it is
 * not an address.
 */
static const char *virt_result(struct cleanup_msg *cm, const char *lhs, size_t ext,
			       const char *tok, size_t len, struct buf *out)
{
	const struct cleanup_virtual_cfg *v = &cm->cfg->virt;
	const char *at = strrchr(lhs, '@');
	size_t lhs_local = at ? (size_t)(at - lhs) : strlen(lhs);
	const char *e = lhs + ext;
	size_t elen = v->propagate ? lhs_local - ext : 0;	/* the unmatched extension */
	const char *tat;

	if (len >= 2 && tok[0] == '<' && tok[len - 1] == '>')
		tok++, len -= 2;
	buf_reset(out);
	if (len > 0 && tok[0] == '@') {
		buf_append(out, lhs, ext);
		buf_append(out, e, elen);
		buf_append(out, tok, len);
	} else {
		tat = memrchr(tok, '@', len);
		buf_append(out, tok, tat ? (size_t)(tat - tok) : len);
		buf_append(out, e, elen);
		if (tat)
			buf_append(out, tat, len - (size_t)(tat - tok));
		else
			buf_printf(out, "@%s", v->myorigin);
	}
	if (strlen(buf_str(out)) != out->len)
		return "not an address";
	return cleanup_addr_bad(buf_str(out), cm->flags);
}

/* virt_results - the answer's addresses into found; -1 (message deferred) if one is bad. */
static int virt_results(struct cleanup_msg *cm, const char *lhs, const struct lookup_answer *a,
			struct virt_list *found)
{
	const char *p = buf_str(&a->value);
	size_t ext = virt_ext(&cm->cfg->virt, lhs, buf_str(&a->matched));
	struct buf one = BUF_INIT;
	const char *bad = NULL;

	while (*p && !bad) {
		size_t n;

		p += strspn(p, ", \t\r\n");
		if ((n = strcspn(p, ", \t\r\n")) == 0)
			break;
		if ((bad = virt_result(cm, lhs, ext, p, n, &one)) == NULL)
			virt_list_add(found, buf_str(&one));
		p += n;
	}
	if (!bad && found->n == 0)
		bad = "empty";
	if (bad) {
		struct buf what = BUF_INIT;

		buf_printf(&what, "%.100s for %s (%s)", buf_str(&a->value), lhs, bad);
		virt_defer(cm, "4.6.0 Alias expansion error", "unreasonable " VIRT_TITLE " result %s",
			   buf_str(&what));
		buf_free(&what);
	}
	buf_free(&one);
	return bad ? -1 : 0;
}

/* virt_ask - one lookup of addr: LOOKUP_FOUND (a set), LOOKUP_NOTFOUND, or -1 (deferred). */
static int virt_ask(struct cleanup_msg *cm, const char *addr, struct lookup_answer *a)
{
	const struct cleanup_virtual_cfg *v = &cm->cfg->virt;
	struct lookup_key k = {
		.tables = v->tables, .key = addr, .order = LOOKUP_ORDER_REWRITE,
		.flags = virt_local(v, addr) ? LOOKUP_F_LOCAL : 0, .delim = v->delim,
	};
	int r = lookup_query(v->lc, &k, a);

	if (r == LOOKUP_FOUND || r == LOOKUP_NOTFOUND)
		return r;
	virt_defer(cm, "4.3.0 Error: temporary failure of a virtual alias lookup",
		   VIRT_TITLE " map lookup problem for %s", addr);
	return -1;
}

/*
 * virt_one - expand l->v[i] in place until it maps to nothing or to
 * itself; new addresses of its expansion go to the end of l. -1 if the
 * message was deferred.
 */
static int virt_one(struct cleanup_msg *cm, const char *orig, struct virt_list *l, size_t i,
		    struct virt_list *fixed)
{
	const struct cleanup_virtual_cfg *v = &cm->cfg->virt;
	struct lookup_answer a;
	int r = 0;

	lookup_answer_init(&a);
	for (unsigned count = 0; r == 0 && !virt_list_has(fixed, l->v[i]); count++) {
		struct virt_list found = { 0 };

		if (count >= v->recursion_limit) {
			virt_defer(cm, "4.6.0 Alias expansion error",
				   "unreasonable " VIRT_TITLE " map nesting for %s", orig);
			r = -1;
		} else if ((r = virt_ask(cm, l->v[i], &a)) == LOOKUP_NOTFOUND) {
			break;
		} else if (r == LOOKUP_FOUND && (r = virt_results(cm, l->v[i], &a, &found)) == 0) {
			for (size_t j = 0; j < found.n; j++) {
				if (strcasecmp(found.v[j], l->v[i]) == 0 && !virt_list_has(fixed, l->v[i]))
					virt_list_add(fixed, l->v[i]);	/* maps to itself: stop here */
				if (j > 0)
					virt_list_add(l, found.v[j]);
			}
			xfree(l->v[i]);
			l->v[i] = xstrdup(found.v[0]);
		}
		virt_list_free(&found);
	}
	lookup_answer_free(&a);
	return r < 0 ? -1 : 0;
}

/* virt_expand - addr's expansion into l (addr itself if nothing maps it); -1 if deferred. */
static int virt_expand(struct cleanup_msg *cm, const char *addr, struct virt_list *l)
{
	const struct cleanup_virtual_cfg *v = &cm->cfg->virt;
	struct virt_list fixed = { 0 };
	int r = 0;

	virt_list_add(l, addr);
	if (v->lc == NULL || *addr == 0)
		return 0;
	for (size_t i = 0; i < l->n && r == 0; i++) {
		if (l->n > v->expansion_limit) {
			virt_defer(cm, "4.6.0 Alias expansion error",
				   "unreasonable " VIRT_TITLE " map expansion size for %s", addr);
			r = -1;
		} else {
			r = virt_one(cm, addr, l, i, &fixed);
		}
	}
	virt_list_free(&fixed);
	return r;
}

/* virt_put - one address of the expansion, unless the duplicate filter knows it. */
static int virt_put(struct cleanup_msg *cm, const char *addr, const char *orig,
		    const char *orcpt, unsigned notify)
{
	struct buf key = BUF_INIT;
	int dup;

	buf_printf(&key, "%s\n%u\n%s\n%s", orcpt, notify, orig, addr);
	for (size_t i = 0; i < key.len; i++)
		if (key.data[i] >= 'A' && key.data[i] <= 'Z')
			key.data[i] = (char)(key.data[i] - 'A' + 'a');
	dup = seen_add(&cm->rcpt_seen, cm->cfg->virt.dup_limit, buf_str(&key));
	buf_free(&key);
	if (dup)
		return 0;
	return queue_file_put_rcpt(cm->qf, addr, orig, orcpt, notify);
}

int cleanup_virtual_rcpt(struct cleanup_msg *cm, const char *addr, const char *orig,
			 const char *orcpt, unsigned notify)
{
	struct virt_list l = { 0 };
	int r = 0;

	orig = cm->cfg->original_recipient ? orig : "";
	if (cm->status == 0 && virt_expand(cm, addr, &l) == 0) {
		if ((notify & QUEUE_NOTIFY_SUCCESS) && (l.n > 1 || strcmp(l.v[0], addr) != 0))
			notify = notify == QUEUE_NOTIFY_SUCCESS ? QUEUE_NOTIFY_NEVER
				 : notify & ~(unsigned)QUEUE_NOTIFY_SUCCESS;
		for (size_t i = 0; i < l.n && r == 0; i++)
			r = virt_put(cm, l.v[i], orig, orcpt, notify);
	}
	virt_list_free(&l);
	return r;
}
