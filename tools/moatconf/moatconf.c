/*
 * moatconf - show and change moat's main.cf, as postconf does for Postfix.
 *
 *   moatconf [-c dir] [-d | -n] [-h] [-x] [name ...]
 *   moatconf [-c dir] -e name=value ...
 *   moatconf [-c dir] -M
 *   moatconf [-c dir] -C
 *
 * Without names it prints every parameter as "name = value", sorted by
 * name: the main.cf setting or the default, unexpanded. -n prints only what
 * main.cf sets, -d the defaults, -h the values alone, -x expanded values.
 * -e edits main.cf atomically after checking the new values; -M prints the
 * master.cf services; -C checks the whole configuration as moatd does
 * before it starts anything (silent and 0 when moatd would start). The configuration directory is /etc/moat unless -c
 * says otherwise (never taken from the environment).
 *
 * Run by an administrator, usually as root; it reads the configuration and,
 * with -e only, rewrites main.cf through conf_editv. It must never write
 * anything else, and never write a main.cf that moat would refuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "stagecf/check.h"

#define MOATCONF_DEFAULT_DIR "/etc/moat"

/* What the command line asked for. */
struct moatconf_opts {
	const char *dir;
	int defaults, nondefault, bare, expand, edit, master, check;
};

/* moatconf_sink - "moatconf: warning: ..." on stderr, like postconf. */
static void moatconf_sink(enum msg_level level, const char *text, size_t len, void *ctx)
{
	(void)level;
	(void)ctx;
	fprintf(stderr, "moatconf: %.*s\n", (int)len, text);
}

static void moatconf_usage(void)
{
	fprintf(stderr, "usage: moatconf [-c dir] [-d | -n] [-h] [-x] [name ...]\n"
			"       moatconf [-c dir] -e name=value ...\n"
			"       moatconf [-c dir] -M\n"
			"       moatconf [-c dir] -C\n");
	exit(2);
}

static int moatconf_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* moatconf_line - "name = value" or, with -h, the value alone. */
static void moatconf_line(const struct conf *c, const struct moatconf_opts *o, const char *name,
			  const char *val)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	if (o->expand && conf_expand(c, val, &out, &err) == 0)
		val = buf_str(&out);
	if (o->bare)
		printf("%s\n", val);
	else
		printf(*val ? "%s = %s\n" : "%s =%s\n", name, val);
	buf_free(&out);
	buf_free(&err);
}

/* moatconf_print - one known parameter as the options say. */
static void moatconf_print(const struct conf *c, const struct moatconf_opts *o, const char *name)
{
	if (o->nondefault && !conf_is_set(c, name))
		return;
	moatconf_line(c, o, name, o->defaults ? conf_default(c, name) : conf_raw(c, name));
}

/* moatconf_extra_raw - main.cf's value of a name the table does not know. */
static const char *moatconf_extra_raw(const struct conf *c, const char *name)
{
	const char *n, *raw;
	size_t i;

	for (i = 0; (n = conf_extra(c, i, &raw)) != NULL; i++)
		if (strcmp(n, name) == 0)
			return raw;
	return NULL;
}

/* moatconf_print_all - every parameter, sorted by name; without -d also
 * the names main.cf defines for itself (macros), as postconf shows them. */
static void moatconf_print_all(const struct conf *c, const struct moatconf_opts *o)
{
	const char **names = xreallocarray(NULL, conf_nparams, sizeof(char *));
	const char *raw;
	size_t i, n = 0;

	for (i = 0; i < conf_nparams; i++)
		names[n++] = conf_params[i].name;
	for (i = 0; !o->defaults && conf_extra(c, i, &raw); i++) {
		names = xreallocarray(names, n + 1, sizeof(char *));
		names[n++] = conf_extra(c, i, &raw);
	}
	qsort(names, n, sizeof(char *), moatconf_name_cmp);
	for (i = 0; i < n; i++) {
		if (conf_param_lookup(names[i]))
			moatconf_print(c, o, names[i]);
		else
			moatconf_line(c, o, names[i], moatconf_extra_raw(c, names[i]));
	}
	xfree(names);
}

/* moatconf_print_names - the parameters named on the command line. */
static int moatconf_print_names(const struct conf *c, const struct moatconf_opts *o,
				char **names, int n)
{
	int i, status = 0;

	for (i = 0; i < n; i++) {
		const char *near;

		if (conf_param_lookup(names[i])) {
			moatconf_print(c, o, names[i]);
			continue;
		}
		if (!o->defaults && moatconf_extra_raw(c, names[i])) {
			moatconf_line(c, o, names[i], moatconf_extra_raw(c, names[i]));
			continue;
		}
		near = conf_param_nearest(names[i]);
		if (near)
			msg_warn("unknown parameter: %s (did you mean %s?)", names[i], near);
		else
			msg_warn("unknown parameter: %s", names[i]);
		status = 1;
	}
	return status;
}

/* moatconf_check - what moatd checks before it starts anything (main.cf,
 * master.cf, each service as its stage reads it); silent if all is well. */
static int moatconf_check(const struct conf *c, const char *dir)
{
	struct buf err = BUF_INIT;
	struct master_cf *m = master_load(dir, c, &err);
	int status = 0;

	if (!m || stagecf_check(c, m, &err) < 0) {
		msg_error("%s", buf_str(&err));
		status = 1;
	}
	master_free(m);
	buf_free(&err);
	return status;
}

/* moatconf_print_master - master.cf services, one line each. */
static int moatconf_print_master(const struct conf *c, const char *dir)
{
	struct buf err = BUF_INIT;
	struct master_cf *m = master_load(dir, c, &err);
	size_t i, j;

	if (!m) {
		msg_error("%s", buf_str(&err));
		buf_free(&err);
		return 1;
	}
	for (i = 0; i < m->nsvc; i++) {
		const struct master_service *s = &m->svc[i];

		printf("%s %s %c %c %c %d%s %d %s", s->name, s->type, s->private_ ? 'y' : 'n',
		       s->unpriv ? 'y' : 'n', s->chroot ? 'y' : 'n', s->wakeup,
		       s->wakeup_if_used ? "?" : "", s->maxproc, s->command);
		for (j = 0; s->args[j]; j++)
			printf(" %s", s->args[j]);
		for (j = 0; s->overrides[j]; j++)	/* braces keep blanks re-readable */
			printf(strpbrk(s->overrides[j], " \t") ? " -o { %s }" : " -o %s", s->overrides[j]);
		printf("\n");
	}
	master_free(m);
	buf_free(&err);
	return 0;
}

static void moatconf_parse_args(int argc, char **argv, struct moatconf_opts *o)
{
	int ch;

	while ((ch = getopt(argc, argv, "c:dehnxCM")) != -1) {
		switch (ch) {
		case 'c': o->dir = optarg; break;
		case 'd': o->defaults = 1; break;
		case 'e': o->edit = 1; break;
		case 'h': o->bare = 1; break;
		case 'n': o->nondefault = 1; break;
		case 'x': o->expand = 1; break;
		case 'M': o->master = 1; break;
		case 'C': o->check = 1; break;
		default: moatconf_usage();
		}
	}
	if ((o->defaults && o->nondefault) || (o->edit && optind == argc))
		moatconf_usage();
}

int main(int argc, char **argv)
{
	struct moatconf_opts o = { .dir = MOATCONF_DEFAULT_DIR };
	struct buf err = BUF_INIT;
	struct conf *c;
	int status = 0;

	msg_init("moatconf");
	msg_set_sink(moatconf_sink, NULL);
	moatconf_parse_args(argc, argv, &o);
	if (o.edit) {
		if (conf_editv(o.dir, argv + optind, (size_t)(argc - optind), &err) < 0) {
			msg_error("%s", buf_str(&err));
			status = 1;
		}
		buf_free(&err);
		return status;
	}
	c = conf_load(o.dir, &err);
	if (!c) {
		msg_error("%s", buf_str(&err));
		buf_free(&err);
		return 1;
	}
	if (o.check)
		status = moatconf_check(c, o.dir);
	else if (o.master)
		status = moatconf_print_master(c, o.dir);
	else if (optind < argc)
		status = moatconf_print_names(c, &o, argv + optind, argc - optind);
	else
		moatconf_print_all(c, &o);
	conf_free(c);
	buf_free(&err);
	return status;
}
