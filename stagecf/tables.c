/*
 * tables.c - collect the lookup tables the configuration names (tables.h).
 *
 * Called by moatd (which opens the tables' files for the lookup stage and
 * has them checked) and by moatconf. Reads only the parsed configuration:
 * it never opens a table, and never decides whether a spec is valid (maps/
 * says that, in the broker's map_files and the lookup stage's map_open).
 */
#include <string.h>

#include "lib/buf.h"
#include "lib/xmem.h"
#include "stagecf/tables.h"

/* The restriction lists whose check_*_access items name tables. */
static const char *const tables_restriction_params[] = {
	CONF_NAME("smtpd_client_restrictions"), CONF_NAME("smtpd_helo_restrictions"),
	CONF_NAME("smtpd_sender_restrictions"), CONF_NAME("smtpd_relay_restrictions"),
	CONF_NAME("smtpd_recipient_restrictions"), CONF_NAME("smtpd_data_restrictions"),
	CONF_NAME("smtpd_end_of_data_restrictions"), NULL,
};

/* Domain lists whose type:name entries are tables (the others are names). */
static const char *const tables_domain_list_params[] = {
	CONF_NAME("mydestination"), CONF_NAME("relay_domains"), CONF_NAME("virtual_alias_domains"),
	NULL,
};

void stagecf_tables_add(struct stagecf_tables *t, const char *spec, const char *where)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].spec, spec) != 0)
			continue;
		/* Every place that names the table: start-up checks that depend
		 * on what it is used for (lookup_tables_refuse) see them all. */
		if (strstr(t->v[i].where, where) == NULL) {
			struct buf both = BUF_INIT;

			(void)buf_printf(&both, "%s, %s", t->v[i].where, where);
			xfree(t->v[i].where);
			t->v[i].where = buf_steal(&both);
		}
		return;
	}
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	t->v[t->n].spec = xstrdup(spec);
	t->v[t->n].where = xstrdup(where);
	t->n++;
}

void stagecf_tables_free(struct stagecf_tables *t)
{
	for (size_t i = 0; i < t->n; i++) {
		xfree(t->v[i].spec);
		xfree(t->v[i].where);
	}
	xfree(t->v);
	t->v = NULL;
	t->n = 0;
}

/* tables_is_access - check_client_access, check_helo_mx_access, ...: an
 * access restriction whose next item is a table. */
static int tables_is_access(const char *item)
{
	size_t n = strlen(item);

	return n > 13 && strncmp(item, "check_", 6) == 0 && strcmp(item + n - 7, "_access") == 0;
}

/* tables_is_spec - "type:name" with a lower-case type word (not a restriction name). */
static int tables_is_spec(const char *item)
{
	size_t n = strspn(item, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && item[n] == ':' && item[n + 1] != 0;
}

void stagecf_restriction_tables(char *const *items, const char *where, struct stagecf_tables *out)
{
	if (items == NULL)
		return;
	for (size_t i = 0; items[i] && items[i + 1]; i++)
		if (tables_is_access(items[i]) && tables_is_spec(items[i + 1]))
			stagecf_tables_add(out, items[++i], where);
}

/* tables_listed - 1 if name is one of list's items. */
static int tables_listed(char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* tables_where - "main.cf:12: name" or "<main.cf path>: name (default)". */
static void tables_where(const struct conf *c, const char *name, struct buf *out)
{
	const char *w = conf_where(c, name);

	buf_reset(out);
	if (w)
		(void)buf_printf(out, "%s: %s", w, name);
	else
		(void)buf_printf(out, "%s: %s (default value)", conf_filename(c), name);
}

/* tables_param - the items of one table parameter. */
static void tables_param(const struct conf *c, const char *name, struct buf *where,
			 struct stagecf_tables *out)
{
	char *const *items = conf_list(c, name);

	tables_where(c, name, where);
	for (size_t j = 0; items && items[j]; j++)
		stagecf_tables_add(out, items[j], buf_str(where));
}

/*
 * tables_classes - the lists of smtpd_restriction_classes: each class is a
 * main.cf parameter of its own (not in the table of known names), whose
 * check_*_access items name tables as the restriction lists' do.
 */
static void tables_classes(const struct conf *c, struct buf *where, struct stagecf_tables *out)
{
	static const char sep[] = ", \t\r\n";
	char *const *names = conf_list(c, "smtpd_restriction_classes");
	struct buf text = BUF_INIT, err = BUF_INIT;
	const char *raw, *n;

	for (size_t i = 0; (n = conf_extra(c, i, &raw)) != NULL; i++) {
		char *save = NULL, **items, *t;
		size_t k = 0;

		buf_reset(&text);
		if (!tables_listed(names, n) || conf_expand(c, raw, &text, &err) < 0)
			continue;	/* an undefined class is refused by the policy check */
		items = xcalloc(text.len / 2 + 2, sizeof(*items));
		for (t = strtok_r(text.data, sep, &save); t; t = strtok_r(NULL, sep, &save))
			items[k++] = t;
		buf_reset(where);
		(void)buf_printf(where, "%s: restriction class %s", conf_filename(c), n);
		stagecf_restriction_tables(items, buf_str(where), out);
		xfree(items);
	}
	buf_free(&text);
	buf_free(&err);
}

/*
 * tables_from_conf - one configuration (main.cf, or a service's copy):
 * proxy_read_maps (which only names tables for the lookup stage), then
 * every other implemented table parameter, then the restriction lists and
 * the restriction classes.
 */
static void tables_from_conf(const struct conf *c, struct stagecf_tables *out)
{
	struct buf where = BUF_INIT;

	tables_param(c, CONF_NAME("proxy_read_maps"), &where, out);
	for (size_t i = 0; i < conf_nparams; i++) {
		const struct conf_param_def *d = &conf_params[i];

		if (d->type == CONF_TABLES && !(d->flags & CONF_F_UNIMPLEMENTED))
			tables_param(c, d->name, &where, out);
	}
	for (size_t i = 0; tables_domain_list_params[i]; i++) {
		char *const *items = conf_list(c, tables_domain_list_params[i]);

		tables_where(c, tables_domain_list_params[i], &where);
		for (size_t j = 0; items && items[j]; j++)
			if (tables_is_spec(items[j]))
				stagecf_tables_add(out, items[j], buf_str(&where));
	}
	for (size_t i = 0; tables_restriction_params[i]; i++) {
		tables_where(c, tables_restriction_params[i], &where);
		stagecf_restriction_tables(conf_list(c, tables_restriction_params[i]), buf_str(&where), out);
	}
	tables_classes(c, &where, out);
	buf_free(&where);
}

int stagecf_tables_collect(const struct conf *c, const struct master_cf *m,
			   struct stagecf_tables *out, struct buf *err)
{
	out->v = NULL;
	out->n = 0;
	tables_from_conf(c, out);
	for (size_t i = 0; m && i < m->nsvc; i++) {
		struct conf *sc = conf_service(c, &m->svc[i], err);

		if (sc == NULL) {
			stagecf_tables_free(out);
			return -1;
		}
		tables_from_conf(sc, out);
		conf_free(sc);
	}
	return 0;
}
