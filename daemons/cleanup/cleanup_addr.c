/*
 * cleanup_addr.c - the envelope addresses a client hands cleanup, checked
 * again before they reach a queue file.
 *
 * Called by cleanup_msg.c for the sender (MSG_CLEANUP_OPEN) and each
 * recipient (MSG_CLEANUP_RCPT). smtpd has parsed every address already, so
 * one that fails here means smtpd is broken or compromised: the caller
 * treats it as a violation of the channel. A DSN from bounce takes its
 * recipient from a queue file, so there a bad address refuses the message
 * instead. What is checked: no control character (CR, LF, NUL, DEL and the
 * rest: a CRLF would end an SMTP command that smtp writes later), the RFC
 * 5321 path length, the syntax of mail/addr.c, and octets >= 0x80 only in a
 * message that declared SMTPUTF8.
 *
 * SECURITY: the address is hostile; only mail/addr.c parses it.
 */
#include <string.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/mailproto.h"
#include "mail/addr.h"

const char *cleanup_addr_bad(const char *addr, uint32_t flags)
{
	struct addr_path p;
	struct buf path = BUF_INIT;
	const char *why = NULL, *bad = NULL;
	size_t n = strlen(addr), used = 0;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)addr[i] < 32 || addr[i] == 127)
			return "control character in an address";
	if (n + 2 > ADDR_PATH_MAX)
		return "address too long";
	addr_path_init(&p);
	(void)buf_printf(&path, "<%s>", addr);
	if (addr_parse_path(path.data, path.len, ADDR_P_STRICT | ADDR_P_NULL_OK, &p, &used, &why)
	    != ADDR_OK || used != path.len)
		bad = "bad address syntax";
	else if ((p.flags & ADDR_F_UTF8) && !(flags & CLEANUP_F_SMTPUTF8))
		bad = "8-bit address without SMTPUTF8";
	addr_path_free(&p);
	buf_free(&path);
	return bad;
}
