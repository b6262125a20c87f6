/*
 * tlskeys.c - the TLS private key files the configuration names (tlskeys.h).
 * Lists paths, and opens them for the broker; never reads a file.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/xmem.h"
#include "stagecf/tlskeys.h"

struct keylist {
	char **v;
	size_t n;
};

/* keylist_add - "<where>: <param>\n<path>" unless path is listed already. */
static void keylist_add(struct keylist *l, const struct conf *c, const char *param,
			const char *path)
{
	struct buf arg = BUF_INIT;
	const char *where = conf_where(c, param);

	if (path == NULL || *path == '\0')
		return;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(strchr(l->v[i], '\n') + 1, path) == 0)
			return;
	/* a key file by default is its certificate file: say where that was set */
	if (where == NULL && strcmp(param, "smtpd_tls_key_file") == 0)
		where = conf_where(c, "smtpd_tls_cert_file");
	else if (where == NULL && strcmp(param, "smtpd_tls_eckey_file") == 0)
		where = conf_where(c, "smtpd_tls_eccert_file");
	else if (where == NULL && strcmp(param, "smtp_tls_key_file") == 0)
		where = conf_where(c, "smtp_tls_cert_file");
	(void)buf_printf(&arg, "%s%s%s\n%s", where ? where : "", where ? ": " : "", param, path);
	l->v = xreallocarray(l->v, l->n + 2, sizeof(char *));
	l->v[l->n++] = buf_steal(&arg);
	l->v[l->n] = NULL;
}

/* keylist_from_conf - the key files one configuration (main.cf, or a service's) names. */
static void keylist_from_conf(struct keylist *l, const struct conf *c)
{
	static const char *const single[] = {
		CONF_NAME("smtpd_tls_key_file"), CONF_NAME("smtpd_tls_eckey_file"),
		CONF_NAME("smtp_tls_key_file"),
	};
	static const char *const lists[] = {
		CONF_NAME("smtpd_tls_chain_files"), CONF_NAME("smtp_tls_chain_files"),
	};

	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		keylist_add(l, c, single[i], conf_str(c, single[i]));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (char *const *p = conf_list(c, lists[i]); p && *p; p++)
			keylist_add(l, c, lists[i], *p);
}

char **stagecf_tls_key_files(const struct conf *c, const struct master_cf *m, struct buf *err)
{
	struct keylist l = { xcalloc(1, sizeof(char *)), 0 };

	keylist_from_conf(&l, c);
	for (size_t i = 0; m && i < m->nsvc; i++) {
		struct conf *sc = conf_service(c, &m->svc[i], err);

		if (sc == NULL) {
			for (size_t j = 0; j < l.n; j++)
				xfree(l.v[j]);
			xfree(l.v);
			return NULL;
		}
		keylist_from_conf(&l, sc);
		conf_free(sc);
	}
	return l.v;
}

static void keys_close(int *fds, int nfds, char **args)
{
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	for (char **a = args; a && *a; a++)
		xfree(*a);
	xfree(args);
}

int stagecf_tls_keys_open(const struct conf *c, const struct master_cf *m, int *fds, int *nfds,
			  int max, char ***args, struct buf *err)
{
	*nfds = 0;
	if ((*args = stagecf_tls_key_files(c, m, err)) == NULL)
		return -1;
	for (char **a = *args; *a; a++) {
		const char *path = strchr(*a, '\n') + 1;
		int fd = -1;

		if (*nfds >= max)
			(void)buf_printf(err, "more than %d TLS key files", max);
		else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
			(void)buf_printf(err, "%.*s %s: %m", (int)(path - *a - 1), *a, path);
		if (fd < 0) {
			keys_close(fds, *nfds, *args);
			*nfds = 0;
			*args = NULL;
			return -1;
		}
		fds[(*nfds)++] = fd;
	}
	return 0;
}
