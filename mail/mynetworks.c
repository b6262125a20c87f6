/*
 * mynetworks.c - trusted client networks and this host's addresses (see
 * mynetworks.h).
 *
 * Called by smtpd through stagecf/smtpd_networks.c (permit_mynetworks,
 * address literals of this host), by moatd's start-up check (without the
 * interfaces) and by screen (smtpd_client_event_limit_exceptions, whose
 * default is $mynetworks); the stages before confinement: getifaddrs needs
 * a netlink socket that no stage sandbox allows.
 *
 * SECURITY: decides who may relay. A malformed entry is an error naming it,
 * never skipped: a trust list is never half-applied.
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/msg.h"
#include "mail/mynetworks.h"

static const unsigned char loop4[4] = { 127, 0, 0, 0 };
static const unsigned char loop6[16] = { [15] = 1 };

/* mynetworks_prefix - the prefix length of a netmask (0 without one). */
static unsigned mynetworks_prefix(const unsigned char *m, unsigned alen)
{
	unsigned bits = 0;

	for (unsigned i = 0; m && i < alen; i++)
		for (int b = 7; b >= 0 && (m[i] >> b) & 1; b--)
			bits++;
	return bits;
}

/* mynetworks_ifaddr - one interface address into local and, by style, nets. */
static void mynetworks_ifaddr(struct mynetworks *mn, const struct sockaddr *sa,
			      const struct sockaddr *mask)
{
	const unsigned char *a, *m;
	unsigned alen, bits;
	int fam = sa->sa_family;

	if (fam == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		m = mask ? (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr : NULL;
		alen = 4;
	} else if (fam == AF_INET6) {
		a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		m = mask ? (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr : NULL;
		alen = 16;
	} else {
		return;
	}
	cidr_list_add_addr(&mn->local, fam, a, alen * 8);
	if (!mn->computed)
		return;
	bits = mynetworks_prefix(m, alen);
	if (mn->style == MYNETWORKS_HOST)
		bits = alen * 8;
	else if (mn->style == MYNETWORKS_CLASS && fam == AF_INET)
		bits = a[0] < 128 ? 8 : a[0] < 192 ? 16 : 24;
	cidr_list_add_addr(&mn->nets, fam, a, bits);
}

static void mynetworks_interfaces(struct mynetworks *mn)
{
	struct ifaddrs *ifs, *i;

	if (getifaddrs(&ifs) < 0) {
		msg_warn("getifaddrs: %m; only loopback counts as this host");
		return;
	}
	for (i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr)
			mynetworks_ifaddr(mn, i->ifa_addr, i->ifa_netmask);
	freeifaddrs(ifs);
}

int mynetworks_parse(struct cidr_list *l, char *const *items, struct buf *err)
{
	for (size_t i = 0; items && items[i]; i++) {
		if (cidr_list_add(l, items[i], err) < 0) {
			buf_append_str(err, " (moat takes addresses and networks only)");
			return -1;
		}
	}
	return 0;
}

void mynetworks_empty(struct mynetworks *mn)
{
	memset(mn, 0, sizeof(*mn));
	cidr_list_init(&mn->nets);
	cidr_list_init(&mn->local);
}

int mynetworks_init(struct mynetworks *mn, char *const *items, const char *style, int interfaces,
		    struct buf *err)
{
	mynetworks_empty(mn);
	mn->style = strcmp(style, "subnet") == 0 ? MYNETWORKS_SUBNET
		    : strcmp(style, "class") == 0 ? MYNETWORKS_CLASS : MYNETWORKS_HOST;
	mn->computed = items == NULL || items[0] == NULL;
	if (mynetworks_parse(&mn->nets, items, err) < 0)
		return -1;
	if (mn->computed) {
		cidr_list_add_addr(&mn->nets, AF_INET, loop4, 8);
		cidr_list_add_addr(&mn->nets, AF_INET6, loop6, 128);
	}
	cidr_list_add_addr(&mn->local, AF_INET, loop4, 8);
	cidr_list_add_addr(&mn->local, AF_INET6, loop6, 128);
	if (interfaces)
		mynetworks_interfaces(mn);
	return 0;
}

int mynetworks_match(const struct mynetworks *mn, int family, const unsigned char ip[16],
		     int lfamily, const unsigned char lip[16])
{
	if (cidr_list_match(&mn->nets, family, ip))
		return 1;
	return mn->computed && family == lfamily && memcmp(ip, lip, 16) == 0;
}

void mynetworks_free(struct mynetworks *mn)
{
	cidr_list_free(&mn->nets);
	cidr_list_free(&mn->local);
}
