/*
 * stagecf.c - error texts of the stage configuration checks (stagecf.h).
 */
#include <stdarg.h>

#include "stagecf/stagecf.h"

int stagecf_fail(struct buf *err, const struct conf *c, const char *name, const char *fmt, ...)
{
	const char *where = conf_where(c, name);
	va_list ap;

	buf_reset(err);
	if (where)
		buf_printf(err, "%s: parameter %s: ", where, name);
	else
		buf_printf(err, "%s: parameter %s (default value): ", conf_filename(c), name);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	return -1;
}
