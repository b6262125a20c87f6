/*
 * transport.c - parameters whose names are built at run time from a
 * transport's name: <transport>_destination_concurrency_limit and the like.
 *
 * Called by qmgr for each transport it schedules. The suffixes live in one
 * registry so that the table check (tests/check_params.py) can tell which
 * table names such code reads without a string literal of the whole name.
 * A suffix outside the registry is a bug in the caller (panic): building a
 * name the check cannot see must never be possible.
 */
#include <string.h>

#include "conf/conf_priv.h"
#include "lib/msg.h"

/* The registry (conf.h defines the CONF_SUFFIX_ names tests/check_params.py reads). */
const char *const conf_transport_suffixes[] = {
	CONF_SUFFIX_CONCURRENCY,
	CONF_SUFFIX_RECIPIENTS,
	CONF_SUFFIX_RATE_DELAY,
	NULL,
};

/* conf_transport_param - put <transport><suffix> in name; 1 if the table
 * knows that parameter, 0 if not (a transport with no own parameter). */
int conf_transport_param(const char *transport, const char *suffix, struct buf *name)
{
	size_t i;

	for (i = 0; conf_transport_suffixes[i]; i++)
		if (strcmp(conf_transport_suffixes[i], suffix) == 0)
			break;
	if (!conf_transport_suffixes[i])
		msg_panic("conf: per-transport suffix %s is not registered", suffix);
	buf_reset(name);
	if (buf_printf(name, "%s%s", transport, suffix) < 0)
		return 0;
	return conf_param_index(buf_str(name)) != (size_t)-1;
}
