/*
 * map_keys.h - the order in which Postfix looks an address, a domain or a
 * client up in a table, as access(5), virtual(5), canonical(5) and
 * transport(5) document it. The callers (smtpd restrictions through the
 * lookup stage, cleanup's rewriting, qmgr's routing) build the key list
 * here and try it with map_lookup_keys; nobody writes the order twice.
 *
 * Keys are not folded here: each table folds as its type does. A "partial"
 * key (anything but the whole address, host name or client address) is not
 * tried on pattern tables (regexp, pcre, cidr), as in Postfix.
 *
 * The builders append, so a caller can chain them (a client is its host
 * name's keys, then its address's keys).
 */
#ifndef MOAT_MAPS_MAP_KEYS_H
#define MOAT_MAPS_MAP_KEYS_H

#include <stddef.h>

#include "lib/buf.h"
#include "maps/map.h"

struct map_key {
	char *key;
	int partial;
};

struct map_keys {
	struct map_key *v;
	size_t n, cap;
	char *ext;		/* the extension with its delimiter ("+foo"), or NULL */
};

void map_keys_init(struct map_keys *k);
void map_keys_free(struct map_keys *k);

/*
 * map_keys_split - (mail/addr_ext.c) the localpart of addr split at the first of the
 * recipient_delimiter characters delims, as Postfix splits it: never the
 * null address, postmaster, mailer-daemon or double-bounce, and with '-'
 * among the delimiters never owner-foo or foo-request; never a split that
 * leaves the user part empty. Returns the length of the user part, or 0 if
 * the address is not split.
 */
size_t map_keys_split(const char *addr, const char *delims);

/*
 * map_keys_access - access(5) order for a mail address: user+ext@domain,
 * user@domain, then the domain (map_keys_domain), user+ext@, user@.
 * parent_matches: parent_domain_matches_subdomains lists smtpd_access_maps.
 */
void map_keys_access(struct map_keys *k, const char *addr, const char *delims,
		     int parent_matches);

/*
 * map_keys_rewrite - virtual(5)/canonical(5) order: user+ext@domain,
 * user@domain, user+ext and user (only if local_domain: the domain is
 * $myorigin, in $mydestination, $inet_interfaces or $proxy_interfaces),
 * @domain. An address without '@' is looked up as user+ext, then user.
 */
void map_keys_rewrite(struct map_keys *k, const char *addr, const char *delims,
		      int local_domain);

/*
 * map_keys_domain - a host or domain name: the name itself, then each parent
 * as "example.com" (parent_matches) or ".example.com" (not).
 */
void map_keys_domain(struct map_keys *k, const char *domain, int parent_matches);

/*
 * map_keys_netaddr - access(5) client address order: 192.0.2.1, 192.0.2,
 * 192.0, 192 (IPv6: truncated at each ':' from the right).
 */
void map_keys_netaddr(struct map_keys *k, const char *addr);

/*
 * map_keys_transport - transport(5) order: user+ext@domain, user@domain
 * (if addr has a localpart), the domain (parent_matches: transport_maps in
 * parent_domain_matches_subdomains), then "*".
 */
void map_keys_transport(struct map_keys *k, const char *addr, const char *delims,
			int parent_matches);

/*
 * map_lookup_keys - try each key on each table (all tables for one key
 * before the next key, as Postfix does with a list of tables); the first
 * value found. *which (if not NULL) is the index of the key that matched.
 * MAP_FAIL as soon as a table fails.
 */
enum map_result map_lookup_keys(struct map *const *maps, size_t nmaps, const struct map_keys *k,
				struct buf *value, size_t *which);

#endif
