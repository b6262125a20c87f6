/*
 * netaddr.c - printable and binary forms of a connection's addresses (see
 * netaddr.h). Used by smtpd and screen for every accepted connection.
 *
 * The kernel's view of the address (getpeername/getsockname) is the only
 * source: nothing here reads what a client says about itself.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lib/netaddr.h"

void netaddr_from(struct netaddr *a, const struct sockaddr_storage *ss)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(a->ip, 0, sizeof(a->ip));
	a->family = ss->ss_family;
	a->port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		memcpy(a->ip, &in->sin_addr, 4);
		a->port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		memcpy(a->ip, &in6->sin6_addr, 16);
		a->port = ntohs(in6->sin6_port);
		if (memcmp(a->ip, mapped, 12) == 0) {
			memmove(a->ip, a->ip + 12, 4);
			memset(a->ip + 4, 0, 12);
			a->family = AF_INET;
		}
	} else {
		a->family = AF_UNSPEC;
	}
	if (a->family == AF_UNSPEC
	    || inet_ntop(a->family, a->ip, a->text, (socklen_t)sizeof(a->text)) == NULL)
		snprintf(a->text, sizeof(a->text), "unknown");
}

void netaddr_of_fd(struct netaddr *a, int fd, int local)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int r;

	memset(&ss, 0, sizeof(ss));
	r = local ? getsockname(fd, (struct sockaddr *)&ss, &sl)
		  : getpeername(fd, (struct sockaddr *)&ss, &sl);
	if (r < 0)
		ss.ss_family = AF_UNSPEC;
	netaddr_from(a, &ss);
}
