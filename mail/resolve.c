/*
 * resolve.c - recipient address -> delivery class, transport, next hop
 * (see resolve.h for the rules).
 *
 * Called by qmgr once per recipient per delivery attempt, so the lists are
 * normalised once in resolve_init and a lookup is a lower-casing copy of the
 * domain plus string compares. The address comes from a queue file that
 * cleanup wrote; it is still treated as untrusted text: any bytes, any length.
 */
#include <ctype.h>
#include <string.h>

#include "lib/xmem.h"
#include "mail/resolve.h"

#define RESOLVE_DOMAIN_MAX	1024

static void resolve_list_free(char **list)
{
	if (list == NULL)
		return;
	for (char **p = list; *p; p++)
		xfree(*p);
	xfree(list);
}

/* resolve_lower - a lower-case copy without trailing dots. */
static char *resolve_lower(const char *s)
{
	size_t n = strlen(s);
	char *d;

	while (n > 0 && s[n - 1] == '.')
		n--;
	d = xstrndup(s, n);
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

/* resolve_list - normalised copy of a domain list; -1 on a lookup table. */
static int resolve_list(char ***out, char *const *in, const char *param, struct buf *err)
{
	size_t n = 0, k = 0;
	char **list;

	while (in && in[n])
		n++;
	list = xcalloc(n + 1, sizeof(*list));
	for (size_t i = 0; i < n; i++) {
		if (strchr(in[i], ':') || in[i][0] == '/') {
			buf_printf(err, "%s = %s: lookup tables are not implemented yet "
				   "(list the domains literally)", param, in[i]);
			resolve_list_free(list);
			return -1;
		}
		if (in[i][0] == 0)
			continue;
		list[k++] = resolve_lower(in[i]);
	}
	*out = list;
	return 0;
}

int resolve_split_transport(const char *value, struct buf *service, struct buf *nexthop)
{
	const char *colon = strchr(value, ':');
	size_t n = colon ? (size_t)(colon - value) : strlen(value);

	if (n == 0 || n > 64)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = value[i];

		if (!isalnum((unsigned char)c) && c != '.' && c != '_' && c != '-')
			return -1;
	}
	if (buf_set(service, value, n) < 0
	    || buf_set_str(nexthop, colon ? colon + 1 : "") < 0)
		return -1;
	return 0;
}

static int resolve_transport(const char *value, const char *param, char **service,
			     char **nexthop, struct buf *err)
{
	struct buf s = BUF_INIT, h = BUF_INIT;
	int r = 0;

	if (resolve_split_transport(value, &s, &h) < 0) {
		buf_printf(err, "%s = %s: not a transport name, or transport:nexthop", param, value);
		r = -1;
	} else {
		*service = xstrdup(buf_str(&s));
		*nexthop = xstrdup(buf_str(&h));
	}
	buf_free(&s);
	buf_free(&h);
	return r;
}

/* resolve_trim - relayhost without surrounding blanks. */
static char *resolve_trim(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

int resolve_init(struct resolve *r, const struct resolve_params *p, struct buf *err)
{
	memset(r, 0, sizeof(*r));
	if (resolve_list(&r->mydest, p->mydestination, "mydestination", err) < 0
	    || resolve_list(&r->relay, p->relay_domains, "relay_domains", err) < 0
	    || resolve_transport(p->default_transport ? p->default_transport : "smtp",
				 "default_transport", &r->def_service, &r->def_nexthop, err) < 0
	    || resolve_transport(p->relay_transport ? p->relay_transport : "relay",
				 "relay_transport", &r->rel_service, &r->rel_nexthop, err) < 0) {
		resolve_free(r);
		return -1;
	}
	r->relayhost = resolve_trim(p->relayhost ? p->relayhost : "");
	return 0;
}

void resolve_free(struct resolve *r)
{
	resolve_list_free(r->mydest);
	resolve_list_free(r->relay);
	xfree(r->relayhost);
	xfree(r->def_service);
	xfree(r->def_nexthop);
	xfree(r->rel_service);
	xfree(r->rel_nexthop);
	memset(r, 0, sizeof(*r));
}

void resolve_result_init(struct resolve_result *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->domain, RESOLVE_DOMAIN_MAX);
}

void resolve_result_free(struct resolve_result *res)
{
	buf_free(&res->domain);
}

/* resolve_is_sub - domain is a proper subdomain of parent ("a.b" of "b"). */
static int resolve_is_sub(const char *domain, size_t dlen, const char *parent)
{
	size_t plen = strlen(parent);

	return dlen > plen + 1 && domain[dlen - plen - 1] == '.'
		&& memcmp(domain + dlen - plen, parent, plen) == 0;
}

/* resolve_match - domain in list; parent entries match subdomains if subs. */
static int resolve_match(char *const *list, const char *domain, size_t dlen, int subs)
{
	for (; list && *list; list++) {
		const char *e = *list;

		if (e[0] == '.') {
			if (e[1] && resolve_is_sub(domain, dlen, e + 1))
				return 1;
			continue;
		}
		if (strcmp(e, domain) == 0 || (subs && resolve_is_sub(domain, dlen, e)))
			return 1;
	}
	return 0;
}

void resolve_addr(const struct resolve *r, const char *addr, struct resolve_result *res)
{
	const char *at = strrchr(addr, '@');
	const char *service, *nexthop;
	size_t n;

	res->service = res->nexthop = NULL;
	buf_reset(&res->domain);
	if (at == NULL) {
		res->cls = RESOLVE_LOCAL;
		return;
	}
	n = strlen(at + 1);
	while (n > 0 && at[n] == '.')
		n--;
	if (n == 0 || buf_set(&res->domain, at + 1, n) < 0) {
		res->cls = RESOLVE_BAD;
		return;
	}
	for (size_t i = 0; i < n; i++)
		res->domain.data[i] = (char)tolower((unsigned char)res->domain.data[i]);
	if (res->domain.data[0] != '[' && resolve_match(r->mydest, res->domain.data, n, 0)) {
		res->cls = RESOLVE_LOCAL;
		return;
	}
	if (res->domain.data[0] != '[' && resolve_match(r->relay, res->domain.data, n, 1)) {
		res->cls = RESOLVE_RELAY;
		service = r->rel_service;
		nexthop = r->rel_nexthop;
	} else {
		res->cls = RESOLVE_DEFAULT;
		service = r->def_service;
		nexthop = r->def_nexthop;
	}
	if (*nexthop == 0)
		nexthop = *r->relayhost ? r->relayhost : res->domain.data;
	res->service = service;
	res->nexthop = nexthop;
}
