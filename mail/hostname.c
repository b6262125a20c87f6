/*
 * hostname.c - host names that come from DNS: validation and PTR query names.
 *
 * Used by smtpd to turn a client address into the name it asks the dns
 * stage about, and to vet the names that come back before they reach a log
 * line, a Received header or a restriction. Pure functions, no I/O.
 *
 * It must never accept a name that could be mistaken for something else
 * downstream: no bytes outside letters, digits, '-' and '.', nothing that
 * looks like an address, nothing longer than DNS allows.
 */
#include <string.h>
#include <sys/socket.h>

#include "mail/addr.h"
#include "mail/hostname.h"

/* hostname_numeric - the last label is all digits ("1.2.3.4", "host.123"). */
static int hostname_numeric(const char *s, size_t len)
{
	size_t i = len;

	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	return i < len && (i == 0 || s[i - 1] == '.');
}

int hostname_valid(const char *s, size_t len)
{
	if (len == 0 || len > HOSTNAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	/* ASCII-only, so addr_domain_valid's LDH rules are exactly the host name rules. */
	return addr_domain_valid(s, len) && !hostname_numeric(s, len);
}

int hostname_from_dns(const char *name, struct buf *out)
{
	size_t n = strlen(name);

	buf_reset(out);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (!hostname_valid(name, n) || buf_set(out, name, n) < 0) {
		buf_reset(out);
		return -1;
	}
	return 0;
}

int hostname_reverse(int family, const unsigned char ip[16], struct buf *out)
{
	static const char hex[] = "0123456789abcdef";

	buf_reset(out);
	if (family == AF_INET) {
		for (int i = 3; i >= 0; i--)
			(void)buf_printf(out, "%u.", ip[i]);
		return buf_append_str(out, "in-addr.arpa");
	}
	if (family != AF_INET6)
		return -1;
	for (int i = 15; i >= 0; i--) {
		(void)buf_putc(out, hex[ip[i] & 0xf]);
		(void)buf_putc(out, '.');
		(void)buf_putc(out, hex[ip[i] >> 4]);
		(void)buf_putc(out, '.');
	}
	return buf_append_str(out, "ip6.arpa");
}
