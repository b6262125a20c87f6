/*
 * smtpd_networks.c - the SMTP server's address lists: mynetworks (who may
 * relay), and this host's own addresses (which address literals are local).
 *
 * Called by smtpd_policy_load. mynetworks as written, or computed from
 * mynetworks_style when empty (mail/mynetworks.c, which screen shares).
 * Interfaces are read with getifaddrs, which needs a netlink socket: only
 * the stage does it, before its sandbox (SMTPD_POLICY_INTERFACES).
 *
 * A mynetworks that covers more public address space than any one
 * organisation was ever allocated makes moat an open relay for everyone
 * there: refused unless smtpd_open_relay_acknowledged = yes. The line is
 * drawn at the largest single allocations ever made: a /8 of public IPv4
 * (2^24 addresses) and a /13 of public IPv6; mail/cidr_public.c says what
 * counts as public. 0.0.0.0/0, ::/0 and 0.0.0.0/1 + 128.0.0.0/1 are all
 * far beyond it; 10.0.0.0/8 or any real site's networks are not.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/msg.h"
#include "stagecf/smtpd_networks.h"
#include "stagecf/stagecf.h"

#define NETWORKS_MAX_PUBLIC4	16777216.0		/* 2^24: a /8 */
#define NETWORKS_MAX_PUBLIC6	4.1538374868278621e34	/* 2^115: a /13 */

/* networks_proxy - proxy_interfaces: addresses a NAT or proxy forwards to
 * this host, so address literals naming them are local, as in Postfix. */
static int networks_proxy(struct smtpd_policy *p, const struct conf *c, struct buf *err)
{
	char *const *items = conf_list(c, "proxy_interfaces");
	unsigned char ip[16];
	int fam;

	for (size_t i = 0; items && items[i]; i++) {
		if (cidr_parse_addr(items[i], &fam, ip) < 0)
			return stagecf_fail(err, c, "proxy_interfaces", "\"%.80s\": not an IP address "
					    "(moat takes addresses, not host names, here)", items[i]);
		cidr_list_add_addr(&p->mynetworks.local, fam, ip, fam == AF_INET ? 32 : 128);
	}
	return 0;
}

/* networks_public - refuse a mynetworks that trusts a slice of the Internet. */
static int networks_public(const struct smtpd_policy *p, const struct conf *c, unsigned flags,
			   struct buf *err)
{
	double v4 = cidr_list_public(&p->mynetworks.nets, AF_INET);
	double v6 = cidr_list_public(&p->mynetworks.nets, AF_INET6);

	if (v4 <= NETWORKS_MAX_PUBLIC4 && v6 <= NETWORKS_MAX_PUBLIC6)
		return 0;
	if (conf_bool(c, "smtpd_open_relay_acknowledged")) {
		if (flags & SMTPD_POLICY_WARN)
			msg_warn("%s: mynetworks covers the Internet and makes this host an open relay; "
				 "accepted because smtpd_open_relay_acknowledged = yes",
				 conf_where(c, "mynetworks") ? conf_where(c, "mynetworks") : conf_filename(c));
		return 0;
	}
	if (v4 > NETWORKS_MAX_PUBLIC4)
		stagecf_fail(err, c, "mynetworks", "it trusts %.0f public IPv4 addresses, more than the "
			     "largest block ever allocated to one organisation (a /8)", v4);
	else
		stagecf_fail(err, c, "mynetworks", "it trusts %.3g public IPv6 addresses, more than the "
			     "largest block ever allocated to one organisation (a /13)", v6);
	buf_append_str(err, ": every client there could relay mail anywhere (an open relay); list "
		       "only your own networks, or set smtpd_open_relay_acknowledged = yes");
	return -1;
}

int smtpd_networks_load(struct smtpd_policy *p, const struct conf *c, unsigned flags,
			struct buf *err)
{
	struct buf why = BUF_INIT;

	if (mynetworks_init(&p->mynetworks, conf_list(c, "mynetworks"), conf_str(c, "mynetworks_style"),
			    (flags & SMTPD_POLICY_INTERFACES) != 0, &why) < 0) {
		stagecf_fail(err, c, "mynetworks", "%s", buf_str(&why));
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	if (networks_proxy(p, c, err) < 0)
		return -1;
	return networks_public(p, c, flags, err);
}
