/*
 * mynetworks.h - the clients a service trusts (mynetworks) and this host's
 * own addresses, as smtpd and screen compute them.
 *
 * mynetworks as main.cf gives it (addresses and networks only: a host name
 * or a table is refused, naming the entry), or, when it is empty, computed
 * from mynetworks_style over the host's interface addresses plus loopback;
 * then the address a connection arrived on also counts as trusted (a host
 * talking to itself over one of its own addresses).
 */
#ifndef MOAT_MAIL_MYNETWORKS_H
#define MOAT_MAIL_MYNETWORKS_H

#include "lib/buf.h"
#include "mail/cidr.h"

enum mynetworks_style { MYNETWORKS_HOST, MYNETWORKS_SUBNET, MYNETWORKS_CLASS };

struct mynetworks {
	struct cidr_list nets;		/* configured, or computed from the style */
	struct cidr_list local;		/* this host's addresses (and all of loopback) */
	int computed;			/* nets came from the style */
	enum mynetworks_style style;
};

/*
 * mynetworks_init - mn (made empty first) from the mynetworks items (NULL
 * or empty: computed) and mynetworks_style. With interfaces, lists the
 * host's interfaces with getifaddrs, which needs a netlink socket: call it
 * before confinement. -1 and a reason naming the entry in err on a
 * malformed entry.
 */
int mynetworks_init(struct mynetworks *mn, char *const *items, const char *style, int interfaces,
		    struct buf *err);

/* mynetworks_empty - mn trusts nothing (ready for mynetworks_init or _free). */
void mynetworks_empty(struct mynetworks *mn);

/*
 * mynetworks_parse - a list of addresses and networks (mynetworks, or a
 * list of the same kind such as smtpd_client_event_limit_exceptions) into
 * l; -1 and a reason naming the entry in err on anything else.
 */
int mynetworks_parse(struct cidr_list *l, char *const *items, struct buf *err);

/*
 * mynetworks_match - the client (family, ip) is trusted; lfamily/lip is the
 * address the connection arrived on (counts only for a computed list).
 */
int mynetworks_match(const struct mynetworks *mn, int family, const unsigned char ip[16],
		     int lfamily, const unsigned char lip[16]);

void mynetworks_free(struct mynetworks *mn);

#endif
