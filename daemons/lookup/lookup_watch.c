/*
 * lookup_watch.c - the lookup stage notices that a table file it holds
 * changed on disk, as Postfix's daemons do (dict_changed): "table ... has
 * changed -- restarting", then it leaves and the broker starts a new
 * process, which gets the files opened anew.
 *
 * It looks at the files it was handed, never at paths (it can open and stat
 * nothing: empty root, no open). Each fd is duplicated before map_open
 * takes it, with its fstat at that moment. A file counts as changed when it
 * has no name any more (st_nlink 0: moatmap or an editor renamed a new file
 * over it, or it was removed) or its size or mtime moved (rewritten in
 * place, as Debian's postmap does). As in Postfix, a symlink pointed
 * elsewhere is not seen: the file it named is unchanged.
 *
 * SECURITY: fstat on fds it holds; nothing here opens, reads or writes.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemons/lookup/lookup.h"
#include "lib/msg.h"
#include "lib/xmem.h"

void lookup_watch_add(struct lookup_tables *t, size_t table, int fd)
{
	struct lookup_watch *w;
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (dup < 0) {
		msg_warn("table %s: cannot keep an fd to watch: %m: a change on disk takes a reload",
			 t->v[table].spec);
		return;
	}
	t->watch = xreallocarray(t->watch, t->nwatch + 1, sizeof(*t->watch));
	w = &t->watch[t->nwatch++];
	w->fd = dup;
	w->table = table;
	if (fstat(dup, &w->st) < 0)
		msg_fatal("fstat of a table fd: %m");
}

/* watch_changed - has w's file lost its name, or changed size or mtime? */
static int watch_changed(const struct lookup_watch *w)
{
	struct stat st;

	if (fstat(w->fd, &st) < 0)
		return 1;
	return st.st_nlink == 0 || st.st_size != w->st.st_size
	       || st.st_mtim.tv_sec != w->st.st_mtim.tv_sec || st.st_mtim.tv_nsec != w->st.st_mtim.tv_nsec;
}

const char *lookup_watch_changed(const struct lookup_tables *t)
{
	for (size_t i = 0; i < t->nwatch; i++)
		if (watch_changed(&t->watch[i]))
			return t->v[t->watch[i].table].spec;
	return NULL;
}
