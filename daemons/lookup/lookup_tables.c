/*
 * lookup_tables.c - the lookup stage builds its tables from the fds the
 * broker handed it (see lookup.h).
 *
 * The broker passes, for each table, one -a argument "<nfds>\n<where>\n<spec>"
 * and that many fds, in order, from STAGE_FD_EXTRA: the files map_files()
 * named for the spec, opened read-only. The broker is trusted for the
 * layout (a mismatch is a bug: fatal); the files' contents are not, and
 * map_open parses them with its limits. This file opens nothing itself.
 */
#include <string.h>

#include "daemons/lookup/lookup.h"
#include "lib/msg.h"
#include "lib/strnum.h"
#include "lib/xmem.h"

/* tables_parse_arg - "<nfds>\n<where>\n<spec>" into its parts. */
static void tables_parse_arg(const char *arg, int *nfds, char **where, char **spec)
{
	const char *nl1 = strchr(arg, '\n'), *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
	char *num;

	if (nl2 == NULL)
		msg_fatal("bad table argument from the broker: \"%.60s\"", arg);
	num = xstrndup(arg, (size_t)(nl1 - arg));
	if (strnum_int(num, 0, 64, nfds) < 0)
		msg_fatal("bad table fd count from the broker: \"%.20s\"", num);
	xfree(num);
	*where = xstrndup(nl1 + 1, (size_t)(nl2 - nl1 - 1));
	*spec = xstrdup(nl2 + 1);
}

void lookup_tables_open(struct stage *st, struct lookup_tables *t)
{
	struct buf err = BUF_INIT;
	int next = STAGE_FD_EXTRA, end = STAGE_FD_EXTRA + st->nextra;

	t->v = xcalloc((size_t)st->nargs + 1, sizeof(*t->v));
	t->n = 0;
	t->broken = 0;
	for (int i = 0; i < st->nargs; i++) {
		struct lookup_table *tb = &t->v[t->n++];
		int fds[64], nfds;

		tables_parse_arg(st->args[i], &nfds, &tb->where, &tb->spec);
		if (next + nfds > end)
			msg_fatal("the broker handed %d table fds, the tables need more", st->nextra);
		for (int j = 0; j < nfds; j++) {
			fds[j] = next++;
			if (!(st->start_flags & STAGE_START_CHECK))
				lookup_watch_add(t, t->n - 1, fds[j]);
		}
		buf_reset(&err);
		tb->map = map_open(tb->spec, NULL, fds, (size_t)nfds, 0, &err);
		if (tb->map == NULL) {
			msg_error("%s: table %s: %s", tb->where, tb->spec, buf_str(&err));
			t->broken++;
		}
	}
	if (next != end)
		msg_fatal("the broker handed %d table fds, the tables need %d", st->nextra,
			  next - STAGE_FD_EXTRA);
	buf_free(&err);
}

struct lookup_table *lookup_table_find(struct lookup_tables *t, const char *spec)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].spec, spec) == 0)
			return &t->v[i];
	return NULL;
}
