/*
 * netaddr.h - the address of one end of a TCP connection, in the forms log
 * lines and address checks use: printable text, family, binary address,
 * port. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is shown and matched
 * as the IPv4 address it carries.
 */
#ifndef MOAT_LIB_NETADDR_H
#define MOAT_LIB_NETADDR_H

#include <netinet/in.h>
#include <sys/socket.h>

struct netaddr {
	char text[INET6_ADDRSTRLEN];	/* "192.0.2.1", "2001:db8::1", or "unknown" */
	int family;			/* AF_INET, AF_INET6, or AF_UNSPEC */
	unsigned char ip[16];		/* IPv4 in the first 4 bytes, the rest zero */
	unsigned port;
};

/* netaddr_from - from a socket address (any other family gives "unknown"). */
void netaddr_from(struct netaddr *a, const struct sockaddr_storage *ss);
/* netaddr_of_fd - the peer (local 0) or our own end (local 1) of a socket;
 * "unknown" if the kernel cannot say (the peer may already be gone). */
void netaddr_of_fd(struct netaddr *a, int fd, int local);

#endif
