/*
 * addr_ext.c - Postfix's split of user+ext@domain (see addr_ext.h). Pure
 * string work on an address already parsed elsewhere.
 */
#include <string.h>
#include <strings.h>

#include "mail/addr_ext.h"

size_t addr_ext_split(const char *addr, const char *delims)
{
	const char *at = strrchr(addr, '@');
	size_t len = at ? (size_t)(at - addr) : strlen(addr), user;

	if (delims == NULL || *delims == 0 || len == 0)
		return 0;
	if ((len == 10 && strncasecmp(addr, "postmaster", 10) == 0) ||
	    (len == 13 && strncasecmp(addr, "mailer-daemon", 13) == 0) ||
	    (len == 13 && strncasecmp(addr, "double-bounce", 13) == 0))
		return 0;
	if (strchr(delims, '-') != NULL &&
	    ((len > 6 && strncasecmp(addr, "owner-", 6) == 0) ||
	     (len > 8 && strncasecmp(addr + len - 8, "-request", 8) == 0)))
		return 0;
	for (user = 0; user < len && strchr(delims, addr[user]) == NULL; user++)
		;
	return user < len ? user : 0;
}
