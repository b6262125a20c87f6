/*
 * listen.c - bind the listening sockets of master.cf inet services.
 *
 * The broker binds as root (so port 25 works) and passes the listeners to
 * the service's screen, which only ever accept()s on them (smtpd holds
 * none). Service names follow master.cf: "port", "host:port",
 * "[ipv6]:port"; a bare port binds every address of inet_interfaces (all,
 * loopback-only, or a list of addresses, IPv6 ones bare or in
 * brackets: "127.0.0.1, [::1]") for each protocol in inet_protocols. The backlog
 * is long (bursts of new connections must never be refused while screen
 * is busy or restarting).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/msg.h"
#include "lib/xmem.h"

#define LISTEN_BACKLOG 1024

static int listen_one(struct service *svc, const char *host, const char *port, int family)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST, .ai_family = family,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int r, on = 1, n = 0;

	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		msg_warn("master.cf service %s: %s: %s", svc->name, host ? host : "*", gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
			msg_warn("master.cf service %s: bind %s port %s: %m", svc->name,
				 host ? host : "*", port);
			close(fd);
			continue;
		}
		svc->listen_fds = xreallocarray(svc->listen_fds, (size_t)svc->nlisten + 1, sizeof(int));
		svc->listen_fds[svc->nlisten++] = fd;
		n++;
	}
	freeaddrinfo(res);
	return n > 0 ? 0 : -1;
}

/* listen_split - "host:port", "[v6]:port" or "port" into host (or NULL) and port. */
static void listen_split(char *name, char **host, char **port)
{
	char *colon = strrchr(name, ':');

	*host = NULL;
	*port = name;
	if (colon == NULL)
		return;
	*colon = 0;
	*port = colon + 1;
	*host = name;
	if (**host == '[') {
		(*host)++;
		(*host)[strcspn(*host, "]")] = 0;
	}
	if (strcmp(*host, "*") == 0 || **host == 0)
		*host = NULL;
}

static int listen_proto_ok(const struct broker *b, int family)
{
	const char *p = conf_str(b->conf, "inet_protocols");

	if (strstr(p, "all"))
		return 1;
	return family == AF_INET ? strstr(p, "ipv4") != NULL : strstr(p, "ipv6") != NULL;
}

/* listen_address - one address of inet_interfaces, bare or in Postfix's [brackets]. */
static int listen_address(struct service *svc, const char *addr, const char *port)
{
	size_t n = strlen(addr);
	char *host;
	int r;

	if (n < 2 || addr[0] != '[' || addr[n - 1] != ']')
		return listen_one(svc, addr, port, AF_UNSPEC);
	host = xstrndup(addr + 1, n - 2);
	r = listen_one(svc, host, port, AF_UNSPEC);
	xfree(host);
	return r;
}

/* listen_interfaces - bind port on each address of inet_interfaces. */
static int listen_interfaces(struct broker *b, struct service *svc, const char *port)
{
	char *const *ifs = conf_list(b->conf, "inet_interfaces");
	int ok = 0;

	for (; *ifs; ifs++) {
		if (strcmp(*ifs, "all") == 0) {
			if (listen_proto_ok(b, AF_INET))
				ok |= listen_one(svc, "0.0.0.0", port, AF_INET) == 0;
			if (listen_proto_ok(b, AF_INET6))
				ok |= listen_one(svc, "::", port, AF_INET6) == 0;
		} else if (strcmp(*ifs, "loopback-only") == 0 || strcmp(*ifs, "localhost") == 0) {
			if (listen_proto_ok(b, AF_INET))
				ok |= listen_one(svc, "127.0.0.1", port, AF_INET) == 0;
			if (listen_proto_ok(b, AF_INET6))
				ok |= listen_one(svc, "::1", port, AF_INET6) == 0;
		} else {
			ok |= listen_address(svc, *ifs, port) == 0;
		}
	}
	return ok ? 0 : -1;
}

/* broker_listen_service - bind what an inet service names; -1 if nothing bound. */
int broker_listen_service(struct broker *b, struct service *svc, const struct master_service *ms)
{
	char *name = xstrdup(ms->name), *host, *port;
	int r;

	listen_split(name, &host, &port);
	if (strcmp(port, "smtp") == 0)
		port = "25";
	if (host)
		r = listen_one(svc, host, port, AF_UNSPEC);
	else
		r = listen_interfaces(b, svc, port);
	xfree(name);
	return r;
}
