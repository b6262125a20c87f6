/*
 * tables.c - the broker's part in lookup tables: open their files for the
 * lookup stage, and for the check run before anything starts.
 *
 * The broker never reads a table: stagecf/tables.c lists the specs the
 * configuration names, maps/ map_files() says which paths a spec needs (it
 * parses the spec, never a file), and the broker opens each path read-only
 * (symlinks followed: administrators link tables) for the TABLES stage.
 * Parsing happens there, confined. Before moatd starts any stage, and
 * before a reload is accepted, the same program runs once in check mode
 * (STAGE_START_CHECK) in its own sandbox with the same fds; moatd waits for
 * it and refuses the configuration with the lines it logged (the table's
 * file and line, and the main.cf line that names it).
 *
 * A table changed on disk is noticed by the lookup stage itself, on the
 * files it holds (daemons/lookup/lookup_watch.c): it leaves, and the next
 * process gets the files opened anew here.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/xmem.h"
#include "maps/map.h"

/* tables_open_one - the files of one spec, appended to fds; -1 and err. */
static int tables_open_one(const struct stagecf_table *t, int *fds, int *nfds, int max,
			   struct buf *err)
{
	struct map_paths paths;
	struct buf why = BUF_INIT;
	int r = 0;

	map_paths_init(&paths);
	if (map_files(t->spec, NULL, &paths, &why) < 0) {
		(void)buf_printf(err, "%s: table %s: %s", t->where, t->spec, buf_str(&why));
		r = -1;
	}
	for (size_t i = 0; r == 0 && i < paths.n; i++) {
		int fd;

		if (*nfds >= max) {
			(void)buf_printf(err, "%s: table %s: more than %d table files in all", t->where,
					 t->spec, max);
			r = -1;
		} else if ((fd = open(paths.v[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
			(void)buf_printf(err, "%s: table %s: %s: %m", t->where, t->spec, paths.v[i]);
			r = -1;
		} else {
			fds[(*nfds)++] = fd;
		}
	}
	map_paths_free(&paths);
	buf_free(&why);
	return r;
}

/*
 * broker_tables_open - every table's files for a TABLES stage: fds (at
 * most max) and one -a argument per table ("<nfds>\n<where>\n<spec>", see
 * daemons/lookup/lookup_tables.c). -1 and err (every fd closed) on failure.
 */
int broker_tables_open(const struct stagecf_tables *t, int *fds, int *nfds, int max, char ***args,
		       struct buf *err)
{
	*nfds = 0;
	*args = xcalloc(t->n + 1, sizeof(char *));
	for (size_t i = 0; i < t->n; i++) {
		struct buf arg = BUF_INIT;
		int before = *nfds;

		if (tables_open_one(&t->v[i], fds, nfds, max, err) < 0) {
			broker_tables_close(fds, *nfds, *args);
			*nfds = 0;
			*args = NULL;
			return -1;
		}
		(void)buf_printf(&arg, "%d\n%s\n%s", *nfds - before, t->v[i].where, t->v[i].spec);
		(*args)[i] = buf_steal(&arg);
	}
	return 0;
}

void broker_tables_close(int *fds, int nfds, char **args)
{
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	for (char **a = args; a && *a; a++)
		xfree(*a);
	xfree(args);
}
