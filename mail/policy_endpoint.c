/*
 * policy_endpoint.c - check_policy_service's endpoint text into a socket
 * address, and a non-blocking connect to one (see policy_endpoint.h).
 * Parsing makes no socket; only policy_endpoint_connect does, for the
 * broker (the policy stage may make none).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "lib/strnum.h"
#include "mail/policy_endpoint.h"

static int endpoint_unix(const char *path, struct policy_endpoint *e, struct buf *why)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&e->addr;

	if (path[0] != '/') {
		buf_append_str(why, "a unix: policy service needs an absolute path (moat "
			       "spawns no policy service: private/name is not available)");
		return -1;
	}
	if (strlen(path) >= sizeof(sun->sun_path)) {
		buf_append_str(why, "socket path too long");
		return -1;
	}
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, path);
	e->len = (socklen_t)sizeof(*sun);
	return 0;
}

static int endpoint_inet(const char *hp, struct policy_endpoint *e, struct buf *why)
{
	const char *colon = strrchr(hp, ':');
	char host[64];
	size_t hlen;
	int port;

	if (colon == NULL || strnum_int(colon + 1, 1, 65535, &port) < 0) {
		buf_append_str(why, "expected inet:host:port with a port number");
		return -1;
	}
	hlen = (size_t)(colon - hp);
	if (hlen >= 2 && hp[0] == '[' && hp[hlen - 1] == ']')
		hp++, hlen -= 2;
	if (hlen == 0 || hlen >= sizeof(host)) {
		buf_append_str(why, "bad host");
		return -1;
	}
	memcpy(host, hp, hlen);
	host[hlen] = 0;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&e->addr)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)&e->addr;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		e->len = (socklen_t)sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&e->addr)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&e->addr;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		e->len = (socklen_t)sizeof(*in6);
		return 0;
	}
	buf_printf(why, "\"%s\" is not an IP address or localhost (moat resolves no policy "
		   "service name)", host);
	return -1;
}

int policy_endpoint_parse(const char *text, struct policy_endpoint *e, struct buf *why)
{
	memset(e, 0, sizeof(*e));
	if (strncmp(text, "unix:", 5) == 0)
		return endpoint_unix(text + 5, e, why);
	if (strncmp(text, "inet:", 5) == 0)
		return endpoint_inet(text + 5, e, why);
	buf_append_str(why, "expected inet:host:port or unix:/path");
	return -1;
}

int policy_endpoint_connect(const struct policy_endpoint *e)
{
	int fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&e->addr, e->len) < 0 && errno != EINPROGRESS) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
