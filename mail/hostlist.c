/*
 * hostlist.c - client host lists by name or address (see hostlist.h).
 *
 * Used by smtpd (debug_peer_list) through stagecf/smtpd_policy.c. Items come
 * from main.cf; the name and address matched come from the kernel and from
 * DNS, so a name only ever selects, it is never trusted beyond that.
 */
#include <string.h>

#include "lib/xmem.h"
#include "mail/hostlist.h"

/* hostlist_item_init - one item without its '!'; -1 and why if unusable. */
static int hostlist_item_init(struct hostlist_item *it, const char *text, int parent_sub,
			      struct buf *why)
{
	char *one[2] = { (char *)text, NULL };
	struct buf ignored = BUF_INIT;

	cidr_list_init(&it->net);
	it->is_net = cidr_list_add(&it->net, text, &ignored) == 0;
	buf_free(&ignored);
	if (it->is_net)
		return 0;
	if (strspn(text, "0123456789.:/[]") == strlen(text) || strchr(text, '[')) {
		buf_printf(why, "\"%.80s\": not an address, network or host name", text);
		return -1;
	}
	return domlist_init(&it->dom, one, parent_sub, why);
}

int hostlist_init(struct hostlist *h, char *const *items, int parent_sub, struct buf *why)
{
	size_t n = 0;

	while (items && items[n])
		n++;
	h->v = xcalloc(n + 1, sizeof(*h->v));
	h->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct hostlist_item *it = &h->v[h->n];
		const char *text = items[i];

		it->negate = text[0] == '!';
		if (hostlist_item_init(it, text + it->negate, parent_sub, why) < 0) {
			cidr_list_free(&it->net);
			hostlist_free(h);
			return -1;
		}
		h->n++;
	}
	return 0;
}

void hostlist_free(struct hostlist *h)
{
	for (size_t i = 0; i < h->n; i++) {
		cidr_list_free(&h->v[i].net);
		if (!h->v[i].is_net)
			domlist_free(&h->v[i].dom);
	}
	xfree(h->v);
	h->v = NULL;
	h->n = 0;
}

int hostlist_match(const struct hostlist *h, const char *name, int family,
		   const unsigned char *ip)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct hostlist_item *it = &h->v[i];
		int hit = it->is_net ? cidr_list_match(&it->net, family, ip)
				     : strcmp(name, "unknown") != 0 && domlist_match(&it->dom, name);

		if (hit)
			return !it->negate;
	}
	return 0;
}
