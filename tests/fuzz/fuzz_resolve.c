/*
 * fuzz_resolve.c - libFuzzer target for mail/resolve.c (qmgr: where a
 * recipient goes) and mail/domlist.c (smtpd: which domains are local or
 * may be relayed to), which read the same two main.cf lists.
 *
 * Input lines: mydestination, relay_domains (items separated by commas or
 * blanks), then recipient addresses. Each address is parsed as smtpd parses
 * RCPT TO (mail/addr.c) and the accepted ones are resolved as qmgr resolves
 * the queue file's copy. Both stages must agree: smtpd's "local" is qmgr's
 * RESOLVE_LOCAL, smtpd's "relay domain" is qmgr's RESOLVE_RELAY (with
 * Postfix's default parent_domain_matches_subdomains, which names
 * relay_domains and not mydestination); a domain never resolves BAD, and
 * the next hop it yields is one the smtp stage can parse. A crash, a
 * sanitizer report, a leak or an abort here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmem.h"
#include "mail/addr.h"
#include "mail/domlist.h"
#include "mail/nexthop.h"
#include "mail/resolve.h"

#define FUZZ_ITEMS	16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_items - split a list line in place, as conf_list would. Two forms
 * are left out because the two matchers are known to differ on them (see
 * the fuzzing report of issue 7): "!domain" exclusions, which resolve.c
 * does not implement, and entries with more than one trailing dot, which
 * resolve.c strips and domlist.c does not. Lookup tables (type:name) are
 * left out too: they are asked of the lookup stage, which is not here.
 */
static void fuzz_items(char *line, char **items)
{
	size_t n = 0, len;
	char *save = NULL;

	for (char *t = strtok_r(line, ", \t", &save); t && n < FUZZ_ITEMS;
	     t = strtok_r(NULL, ", \t", &save)) {
		len = strlen(t);
		if (strchr(t, '!') == NULL && strchr(t, ':') == NULL && (len < 2 || strcmp(t + len - 2, "..") != 0))
			items[n++] = t;
	}
	items[n] = NULL;
}

struct fuzz_lists {
	struct domlist mydest, relay;	/* smtpd's view */
	struct resolve res;		/* qmgr's view */
};

/* fuzz_one - one recipient through both views. */
static void fuzz_one(const struct fuzz_lists *f, const char *rcpt, struct addr_path *p,
		     struct resolve_result *rr)
{
	struct nexthop nh;
	struct buf why = BUF_INIT;
	size_t used;
	const char *err, *dom;
	int local, relay;

	if (addr_parse_path(rcpt, strlen(rcpt), ADDR_P_STRICT, p, &used, &err) != ADDR_OK
	    || (p->flags & (ADDR_F_NODOMAIN | ADDR_F_TRICKS)))
		return;
	dom = addr_domain(p);
	resolve_addr(&f->res, "", buf_str(&p->addr), rr);
	if (rr->cls == RESOLVE_BAD)
		abort();
	if (!(p->flags & ADDR_F_LITERAL)) {
		local = domlist_match(&f->mydest, dom);
		relay = !local && domlist_match(&f->relay, dom);
		if (local != (rr->cls == RESOLVE_LOCAL) || relay != (rr->cls == RESOLVE_RELAY))
			abort();
	}
	if (rr->cls != RESOLVE_LOCAL && !(p->flags & ADDR_F_UTF8)
	    && nexthop_parse(rr->nexthop, 25, &nh, &why) < 0)
		abort();	/* smtp would fail on a domain smtpd accepted */
	buf_free(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1), *lines[2] = { "", "" }, *rest, *save = NULL;
	char *mydest[FUZZ_ITEMS + 1], *relay[FUZZ_ITEMS + 1];
	struct resolve_params rp = { mydest, relay, "", "smtp", "relay", NULL, NULL, NULL, NULL, NULL };
	struct buf err = BUF_INIT;
	struct fuzz_lists f;
	struct addr_path p;
	struct resolve_result rr;

	memcpy(text, data, size);
	text[size] = 0;
	rest = text;
	for (int i = 0; i < 2 && rest; i++) {
		lines[i] = rest;
		if ((rest = strchr(rest, '\n')) != NULL)
			*rest++ = 0;
	}
	fuzz_items(lines[0], mydest);
	fuzz_items(lines[1], relay);
	if (resolve_init(&f.res, &rp, &err) < 0) {
		xfree(text);
		buf_free(&err);
		return 0;
	}
	if (domlist_init(&f.mydest, mydest, 0, &err) < 0 || domlist_init(&f.relay, relay, 1, &err) < 0)
		abort();	/* qmgr started with lists smtpd refuses */
	addr_path_init(&p);
	resolve_result_init(&rr);
	for (char *r = rest ? strtok_r(rest, "\n", &save) : NULL; r; r = strtok_r(NULL, "\n", &save))
		fuzz_one(&f, r, &p, &rr);
	resolve_result_free(&rr);
	addr_path_free(&p);
	domlist_free(&f.mydest);
	domlist_free(&f.relay);
	resolve_free(&f.res);
	buf_free(&err);
	xfree(text);
	return 0;
}
