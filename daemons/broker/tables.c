/*
 * tables.c - the broker's part in lookup tables: open their files for the
 * lookup stage, have them checked before anything starts, and restart the
 * lookup stage when one changes on disk.
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
 * Every TABLES_WATCH_MS the broker stats the paths it last opened for the
 * running lookup process (device, inode, size, mtime): a table rebuilt by
 * moatmap or postmap, or saved by an editor, is logged as Postfix does
 * ("table ... has changed -- restarting") and the lookup stage is stopped
 * gracefully; the next one opens the new files.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/xmem.h"
#include "maps/map.h"

#define TABLES_WATCH_MS		2000

struct tables_file {
	char *path;
	char *spec;
	struct stat st;
};

static struct tables_file *tables_files;	/* of the running lookup process */
static size_t tables_nfiles;
static int64_t tables_next_watch;

static void tables_forget(void)
{
	for (size_t i = 0; i < tables_nfiles; i++) {
		xfree(tables_files[i].path);
		xfree(tables_files[i].spec);
	}
	xfree(tables_files);
	tables_files = NULL;
	tables_nfiles = 0;
}

static void tables_remember(const char *path, const char *spec, const struct stat *st)
{
	tables_files = xreallocarray(tables_files, tables_nfiles + 1, sizeof(*tables_files));
	tables_files[tables_nfiles].path = xstrdup(path);
	tables_files[tables_nfiles].spec = xstrdup(spec);
	tables_files[tables_nfiles].st = *st;
	tables_nfiles++;
}

/* tables_open_one - the files of one spec, appended to fds; -1 and err. */
static int tables_open_one(const struct stagecf_table *t, int *fds, int *nfds, int max, int record,
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
		struct stat st;
		int fd;

		if (*nfds >= max) {
			(void)buf_printf(err, "%s: table %s: more than %d table files in all", t->where,
					 t->spec, max);
			r = -1;
		} else if ((fd = open(paths.v[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0
			   || fstat(fd, &st) < 0) {
			(void)buf_printf(err, "%s: table %s: %s: %m", t->where, t->spec, paths.v[i]);
			if (fd >= 0)
				close(fd);
			r = -1;
		} else {
			fds[(*nfds)++] = fd;
			if (record)
				tables_remember(paths.v[i], t->spec, &st);
		}
	}
	map_paths_free(&paths);
	buf_free(&why);
	return r;
}

/*
 * broker_tables_open - every table's files for a TABLES stage: fds (at
 * most max) and one -a argument per table ("<nfds>\n<where>\n<spec>", see
 * daemons/lookup/lookup_tables.c). record: these fds go to the lookup
 * process the broker watches. -1 and err (every fd closed) on failure.
 */
int broker_tables_open(const struct stagecf_tables *t, int *fds, int *nfds, int max, char ***args,
		       int record, struct buf *err)
{
	*nfds = 0;
	*args = xcalloc(t->n + 1, sizeof(char *));
	if (record)
		tables_forget();
	for (size_t i = 0; i < t->n; i++) {
		struct buf arg = BUF_INIT;
		int before = *nfds;

		if (tables_open_one(&t->v[i], fds, nfds, max, record, err) < 0) {
			broker_tables_close(fds, *nfds, *args);
			*nfds = 0;
			*args = NULL;
			return -1;
		}
		(void)buf_printf(&arg, "%d\n%s\n%s", *nfds - before, t->v[i].where, t->v[i].spec);
		(*args)[i] = buf_steal(&arg);
	}
	tables_next_watch = event_now_ms() + TABLES_WATCH_MS;
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

/* tables_changed - has path another file, size or mtime than when opened? */
static int tables_changed(const struct tables_file *f)
{
	struct stat st;

	if (stat(f->path, &st) < 0)
		return 0;	/* mid-rename or removed: keep the tables we hold until it is back */
	return st.st_dev != f->st.st_dev || st.st_ino != f->st.st_ino || st.st_size != f->st.st_size
	       || st.st_mtim.tv_sec != f->st.st_mtim.tv_sec || st.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec;
}

/* broker_tables_watch - a changed table file restarts the lookup stage. */
void broker_tables_watch(struct broker *b)
{
	const struct tables_file *changed = NULL;

	if (tables_nfiles == 0 || b->stopping || event_now_ms() < tables_next_watch)
		return;
	tables_next_watch = event_now_ms() + TABLES_WATCH_MS;
	for (size_t i = 0; i < tables_nfiles && !changed; i++)
		if (tables_changed(&tables_files[i]))
			changed = &tables_files[i];
	if (changed == NULL)
		return;
	msg_info("table %s has changed -- restarting", changed->spec);
	tables_forget();
	for (struct child *c = b->children; c; c = c->next)
		if ((c->svc->def->flags & STAGEDEF_F_TABLES) && !c->retiring)
			broker_child_retire(b, c);
	broker_ensure(b);
}
