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

static void resolve_list_free(struct resolve_entry *list)
{
	if (list == NULL)
		return;
	for (struct resolve_entry *p = list; p->name; p++)
		xfree(p->name);
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

/* resolve_is_table - "type:name" with a lower-case type word, as Postfix's lists. */
static int resolve_is_table(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && s[n] == ':' && s[n + 1] != 0;
}

/* resolve_list - normalised copy of a domain list; -1 on a "/file" entry. */
static int resolve_list(struct resolve_entry **out, char *const *in, const char *param,
			struct buf *err)
{
	size_t n = 0, k = 0;
	struct resolve_entry *list;

	while (in && in[n])
		n++;
	list = xcalloc(n + 1, sizeof(*list));
	for (size_t i = 0; i < n; i++) {
		if (in[i][0] == '/' || (strchr(in[i], ':') && !resolve_is_table(in[i]))) {
			buf_printf(err, "%s = %s: /file entries are not implemented "
				   "(use a lookup table, type:name)", param, in[i]);
			resolve_list_free(list);
			return -1;
		}
		if (in[i][0] == 0)
			continue;
		list[k].table = resolve_is_table(in[i]);
		list[k].name = list[k].table ? xstrdup(in[i]) : resolve_lower(in[i]);
		k++;
	}
	*out = list;
	return 0;
}

/* resolve_joined - a table parameter's specs separated by '\n'; NULL if none. */
static char *resolve_joined(char *const *in)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; in && in[i]; i++)
		if (in[i][0]) {
			if (b.len && buf_putc(&b, '\n') < 0)
				break;
			(void)buf_append_str(&b, in[i]);
		}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
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
	    || resolve_list(&r->virt, p->virtual_alias_domains, "virtual_alias_domains", err) < 0
	    || resolve_transport(p->default_transport ? p->default_transport : "smtp",
				 "default_transport", &r->def_service, &r->def_nexthop, err) < 0
	    || resolve_transport(p->relay_transport ? p->relay_transport : "relay",
				 "relay_transport", &r->rel_service, &r->rel_nexthop, err) < 0) {
		resolve_free(r);
		return -1;
	}
	r->relayhost = resolve_trim(p->relayhost ? p->relayhost : "");
	r->transport_maps = resolve_joined(p->transport_maps);
	r->sender_relay_maps = resolve_joined(p->sender_relayhost_maps);
	r->relocated_maps = resolve_joined(p->relocated_maps);
	r->null_sender_key = xstrdup(p->null_sender_key ? p->null_sender_key : "<>");
	return 0;
}

void resolve_free(struct resolve *r)
{
	resolve_list_free(r->mydest);
	resolve_list_free(r->relay);
	resolve_list_free(r->virt);
	xfree(r->relocated_maps);
	xfree(r->relayhost);
	xfree(r->def_service);
	xfree(r->def_nexthop);
	xfree(r->rel_service);
	xfree(r->rel_nexthop);
	xfree(r->transport_maps);
	xfree(r->sender_relay_maps);
	xfree(r->null_sender_key);
	memset(r, 0, sizeof(*r));
}

void resolve_result_init(struct resolve_result *res)
{
	memset(res, 0, sizeof(*res));
	buf_init(&res->domain, RESOLVE_DOMAIN_MAX);
	buf_init(&res->value, 0);
	buf_init(&res->service_buf, 0);
	buf_init(&res->nexthop_buf, 0);
	buf_init(&res->reason_buf, 0);
}

void resolve_result_free(struct resolve_result *res)
{
	buf_free(&res->domain);
	buf_free(&res->value);
	buf_free(&res->service_buf);
	buf_free(&res->nexthop_buf);
	buf_free(&res->reason_buf);
}

/* resolve_is_sub - domain is a proper subdomain of parent ("a.b" of "b"). */
static int resolve_is_sub(const char *domain, size_t dlen, const char *parent)
{
	size_t plen = strlen(parent);

	return dlen > plen + 1 && domain[dlen - plen - 1] == '.'
		&& memcmp(domain + dlen - plen, parent, plen) == 0;
}

/* resolve_ask - the caller's tables; a table with no caller to ask fails. */
static int resolve_ask(const struct resolve *r, enum resolve_table which, const char *tables,
		       const char *key, struct buf *value)
{
	if (r->lookup.fn == NULL)
		return -1;
	return r->lookup.fn(r->lookup.ctx, which, tables, key, value);
}

/* resolve_name_match - one literal entry; parent entries match subdomains if subs. */
static int resolve_name_match(const char *e, const char *domain, size_t dlen, int subs)
{
	if (e[0] == '.')
		return e[1] && resolve_is_sub(domain, dlen, e + 1);
	return strcmp(e, domain) == 0 || (subs && resolve_is_sub(domain, dlen, e));
}

int resolve_domain_listed(const struct resolve *r, const struct resolve_entry *list,
			  enum resolve_table which, const char *domain)
{
	struct buf value = BUF_INIT;
	size_t dlen = strlen(domain);
	int found = 0;

	for (; list && list->name && !found; list++) {
		if (!list->table && which == RESOLVE_T_VIRTUAL)
			found = strcmp(list->name, domain) == 0;	/* a string list */
		else if (!list->table)
			found = resolve_name_match(list->name, domain, dlen, which == RESOLVE_T_RELAY);
		else
			found = resolve_ask(r, which, list->name, domain, &value);
	}
	buf_free(&value);
	return found;
}

/* resolve_defer - a table failed: the recipient waits, as Postfix's DICT_ERR. */
static void resolve_defer(struct resolve_result *res, const char *what)
{
	res->cls = RESOLVE_DEFER;
	res->service = res->nexthop = NULL;
	memcpy(res->dsn, "4.3.0", 6);
	buf_reset(&res->reason_buf);
	(void)buf_printf(&res->reason_buf, "%s lookup failure", what);
	res->reason = buf_str(&res->reason_buf);
}

/* resolve_domain - the recipient's domain into res->domain; 0, or -1 if empty. */
static int resolve_domain(const char *at, struct resolve_result *res)
{
	size_t n = strlen(at + 1);

	while (n > 0 && at[n] == '.')
		n--;
	if (n == 0 || buf_set(&res->domain, at + 1, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		res->domain.data[i] = (char)tolower((unsigned char)res->domain.data[i]);
	return 0;
}

static void resolve_error(struct resolve_result *res, int bounce, const char *text);

/* resolve_class - mydestination, virtual alias, relay_domains or default; -1 if a table failed. */
static int resolve_class(const struct resolve *r, struct resolve_result *res)
{
	const char *d = buf_str(&res->domain);
	int local = 0, relay = 0, virt = 0;

	if (d[0] != '[' && (local = resolve_domain_listed(r, r->mydest, RESOLVE_T_MYDEST, d)) < 0)
		return -1;
	if (!local && d[0] != '['
	    && (virt = resolve_domain_listed(r, r->virt, RESOLVE_T_VIRTUAL, d)) < 0)
		return -1;
	if (virt) {
		resolve_error(res, 1, "5.1.1 User unknown in virtual alias table");
		return 0;
	}
	if (!local && d[0] != '['
	    && (relay = resolve_domain_listed(r, r->relay, RESOLVE_T_RELAY, d)) < 0)
		return -1;
	res->cls = local ? RESOLVE_LOCAL : relay ? RESOLVE_RELAY : RESOLVE_DEFAULT;
	res->service = local ? NULL : relay ? r->rel_service : r->def_service;
	res->nexthop = local ? NULL : relay ? r->rel_nexthop : r->def_nexthop;
	return 0;
}

/* resolve_relayhost - sender_dependent_relayhost_maps, else relayhost; NULL if a table failed. */
static const char *resolve_relayhost(const struct resolve *r, const char *sender,
				     struct resolve_result *res)
{
	int found;

	if (r->sender_relay_maps == NULL)
		return r->relayhost;
	found = resolve_ask(r, RESOLVE_T_SENDER_RELAY, r->sender_relay_maps,
			    *sender ? sender : r->null_sender_key, &res->value);
	if (found < 0)
		return NULL;
	if (found == 0 || res->value.len == 0 || buf_set(&res->nexthop_buf, res->value.data,
							 res->value.len) < 0)
		return r->relayhost;
	return buf_str(&res->nexthop_buf);
}

/* resolve_error - error:text and retry:text, as Postfix's error(8) and retry services. */
static void resolve_error(struct resolve_result *res, int bounce, const char *text)
{
	size_t n = strspn(text, "0123456789.");

	res->cls = bounce ? RESOLVE_ERROR : RESOLVE_DEFER;
	res->service = res->nexthop = NULL;
	memcpy(res->dsn, bounce ? "5.0.0" : "4.0.0", 6);
	/* "5.1.1 text" keeps its code if its class fits the service */
	if (n >= 5 && n < sizeof(res->dsn) && text[n] == ' ' && text[0] == (bounce ? '5' : '4')
	    && text[1] == '.') {
		memcpy(res->dsn, text, n);
		res->dsn[n] = 0;
		text += n + 1;
	}
	if (buf_set_str(&res->reason_buf, *text ? text : bounce ? "Address is undeliverable"
			: "Try again later") < 0)
		buf_reset(&res->reason_buf);
	res->reason = buf_str(&res->reason_buf);
}

/*
 * resolve_transport_map - transport_maps on the recipient (transport(5),
 * see resolve.h); -1 if a table failed or its value names no transport.
 */
static int resolve_transport_map(const struct resolve *r, const char *addr,
				 struct resolve_result *res)
{
	struct buf svc = BUF_INIT;
	const char *nexthop;
	int found = resolve_ask(r, RESOLVE_T_TRANSPORT, r->transport_maps, addr, &res->value);

	if (found <= 0)
		return found;
	if (res->value.data[0] == ':') {	/* keep the transport; a nexthop replaces */
		nexthop = res->value.data + 1;
		if (*nexthop && res->cls != RESOLVE_LOCAL) {
			if (buf_set_str(&res->nexthop_buf, nexthop) < 0)
				return -1;
			res->nexthop = buf_str(&res->nexthop_buf);
		}
		return 0;
	}
	if (resolve_split_transport(buf_str(&res->value), &svc, &res->nexthop_buf) < 0) {
		buf_free(&svc);
		return -1;
	}
	if (strcmp(buf_str(&svc), "error") == 0 || strcmp(buf_str(&svc), "retry") == 0) {
		resolve_error(res, svc.data[0] == 'e', buf_str(&res->nexthop_buf));
		buf_free(&svc);
		return 0;
	}
	(void)buf_set(&res->service_buf, svc.data, svc.len);
	buf_free(&svc);
	if (res->cls == RESOLVE_LOCAL)	/* routed elsewhere: moat has no local delivery */
		res->cls = RESOLVE_DEFAULT;
	res->service = buf_str(&res->service_buf);
	res->nexthop = res->nexthop_buf.len ? buf_str(&res->nexthop_buf) : buf_str(&res->domain);
	return 0;
}

/* resolve_relocated - relocated_maps, after every other rule: a bounce, or a deferral. */
static void resolve_relocated(const struct resolve *r, const char *addr, struct resolve_result *res)
{
	int found;

	if (r->relocated_maps == NULL || res->cls == RESOLVE_DEFER || res->cls == RESOLVE_BAD)
		return;
	found = resolve_ask(r, res->cls == RESOLVE_LOCAL ? RESOLVE_T_RELOCATED_LOCAL
			    : RESOLVE_T_RELOCATED, r->relocated_maps, addr, &res->value);
	if (found < 0) {
		resolve_defer(res, "relocated_maps");
	} else if (found > 0) {
		res->cls = RESOLVE_ERROR;
		res->service = res->nexthop = NULL;
		memcpy(res->dsn, "5.1.6", 6);
		buf_reset(&res->reason_buf);
		(void)buf_append_str(&res->reason_buf, "User has moved to ");
		for (const char *p = buf_str(&res->value); *p && res->reason_buf.len < 300; p++)
			(void)buf_putc(&res->reason_buf, (unsigned char)*p < 32 || *p == 127 ? '?' : *p);
		res->reason = buf_str(&res->reason_buf);
	}
}

static void resolve_route(const struct resolve *r, const char *sender, const char *addr,
			  struct resolve_result *res);

void resolve_addr(const struct resolve *r, const char *sender, const char *addr,
		  struct resolve_result *res)
{
	resolve_route(r, sender, addr, res);
	resolve_relocated(r, addr, res);
}

/* resolve_route - the class, transport and next hop, before relocated_maps. */
static void resolve_route(const struct resolve *r, const char *sender, const char *addr,
			  struct resolve_result *res)
{
	const char *at = strrchr(addr, '@');
	const char *relayhost;

	res->service = res->nexthop = res->reason = NULL;
	buf_reset(&res->domain);
	if (at == NULL) {
		res->cls = RESOLVE_LOCAL;
		return;
	}
	if (resolve_domain(at, res) < 0) {
		res->cls = RESOLVE_BAD;
		return;
	}
	if (resolve_class(r, res) < 0) {
		resolve_defer(res, "domain list table");
		return;
	}
	if (res->cls == RESOLVE_ERROR)
		return;	/* a virtual alias domain: nothing routes it */
	if (res->cls != RESOLVE_LOCAL && *res->nexthop == 0) {
		if ((relayhost = resolve_relayhost(r, sender, res)) == NULL) {
			resolve_defer(res, "sender_dependent_relayhost_maps");
			return;
		}
		res->nexthop = *relayhost ? relayhost : buf_str(&res->domain);
	}
	if (r->transport_maps && resolve_transport_map(r, addr, res) < 0)
		resolve_defer(res, "transport_maps");
}

int resolve_nexthop_named(const struct resolve_result *res)
{
	return res->nexthop != NULL && res->nexthop != buf_str(&res->domain);
}
