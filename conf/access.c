/*
 * access.c - reading a loaded configuration, overriding it, copying it and
 * freeing it.
 *
 * Called by every stage (typed accessors), by the broker (conf_dup and
 * conf_set for master.cf -o overrides) and by moatconf. Asking for a name
 * the table does not know, or with the wrong type, is a bug in the caller
 * and panics; nothing a file says can reach those panics. Returned pointers
 * belong to the struct conf and stay valid until conf_free.
 */
#include <string.h>

#include "conf/conf_priv.h"
#include "lib/msg.h"
#include "lib/xmem.h"

/* conf_slot - the value of a known parameter; panic on an unknown name. */
static const struct conf_val *conf_slot(const struct conf *c, const char *name,
					const struct conf_param_def **def)
{
	size_t i = conf_param_index(name);

	if (i == (size_t)-1)
		msg_panic("conf: no parameter named %s in the table", name);
	*def = &conf_params[i];
	return &c->vals[i];
}

/* conf_typed - the value of name, which must have type t. */
static const struct conf_val *conf_typed(const struct conf *c, const char *name,
					 enum conf_type t)
{
	const struct conf_param_def *d;
	const struct conf_val *v = conf_slot(c, name, &d);

	if (d->type != t)
		msg_panic("conf: parameter %s read with the wrong type", name);
	return v;
}

const char *conf_str(const struct conf *c, const char *name)
{
	const struct conf_param_def *d;

	return conf_slot(c, name, &d)->value;
}

int conf_bool(const struct conf *c, const char *name)
{
	return (int)conf_typed(c, name, CONF_BOOL)->num;
}

int64_t conf_int(const struct conf *c, const char *name)
{
	return conf_typed(c, name, CONF_INT)->num;
}

int64_t conf_time(const struct conf *c, const char *name)
{
	return conf_typed(c, name, CONF_TIME)->num;
}

uint64_t conf_size(const struct conf *c, const char *name)
{
	return (uint64_t)conf_typed(c, name, CONF_SIZE)->num;
}

char *const *conf_list(const struct conf *c, const char *name)
{
	const struct conf_param_def *d;
	const struct conf_val *v = conf_slot(c, name, &d);

	if (d->type != CONF_LIST && d->type != CONF_TABLES)
		msg_panic("conf: parameter %s is not a list", name);
	return v->list;
}

const char *conf_raw(const struct conf *c, const char *name)
{
	const struct conf_param_def *d;
	const struct conf_val *v = conf_slot(c, name, &d);

	return v->raw ? v->raw : conf_default_raw(c, (size_t)(d - conf_params));
}

const char *conf_default(const struct conf *c, const char *name)
{
	const struct conf_param_def *d;

	(void)conf_slot(c, name, &d);
	return conf_default_raw(c, (size_t)(d - conf_params));
}

int conf_is_set(const struct conf *c, const char *name)
{
	const struct conf_param_def *d;

	return conf_slot(c, name, &d)->origin != CONF_FROM_DEFAULT;
}

/* conf_where - where name's value was set ("main.cf:12", "master.cf:3");
 * NULL for a default. */
const char *conf_where(const struct conf *c, const char *name)
{
	const struct conf_param_def *d;

	return conf_slot(c, name, &d)->where;
}

const char *conf_filename(const struct conf *c)
{
	return c->filename;
}

/* conf_dir - the directory conf_load read, else config_directory. */
const char *conf_dir(const struct conf *c)
{
	return c->dir ? c->dir : conf_str(c, "config_directory");
}

const char *conf_extra(const struct conf *c, size_t i, const char **raw)
{
	if (i >= c->nextra)
		return NULL;
	*raw = c->extra[i].v.raw;
	return c->extra[i].name;
}

/* conf_set - a -o override; on error c keeps its previous values. */
int conf_set(struct conf *c, const char *name, const char *value, const char *where,
	     struct buf *err)
{
	size_t i = conf_param_index(name);
	struct conf_val *v, old;
	struct buf again = BUF_INIT;

	buf_reset(err);
	if (i == (size_t)-1) {
		const char *near = conf_param_nearest(name);

		buf_printf(err, "%s: unknown parameter %s", where, name);
		if (near)
			buf_printf(err, " (did you mean %s?)", near);
		return -1;
	}
	if ((conf_params[i].flags & (CONF_F_UNIMPLEMENTED | CONF_F_FAILCLOSED)) == CONF_F_UNIMPLEMENTED) {
		conf_warn_ignored(where, name);
		return 0;
	}
	v = &c->vals[i];
	old = *v;
	v->raw = xstrdup(value);
	v->where = xstrdup(where);
	v->origin = CONF_FROM_OVERRIDE;
	if (conf_resolve(c, err) == 0) {
		xfree(old.raw);
		xfree(old.where);
		if (conf_params[i].flags & CONF_F_UNIMPLEMENTED)
			conf_warn_ignored(where, name);	/* a fail-closed one that asks for nothing */
		return 0;
	}
	conf_val_set(v, old.raw, old.origin, old.where);
	xfree(old.raw);
	xfree(old.where);
	if (conf_resolve(c, &again) < 0)
		msg_panic("conf: cannot restore configuration: %s", buf_str(&again));
	buf_free(&again);
	return -1;
}

/* conf_dup - an independent copy with the same values and overrides. */
struct conf *conf_dup(const struct conf *c)
{
	struct conf *d = conf_new(c->filename);
	struct buf err = BUF_INIT;
	size_t i;

	xfree(d->hostname);
	d->hostname = xstrdup(c->hostname);
	d->dir = c->dir ? xstrdup(c->dir) : NULL;
	for (i = 0; i < conf_nparams; i++)
		conf_val_set(&d->vals[i], c->vals[i].raw, c->vals[i].origin, c->vals[i].where);
	d->extra = xcalloc(c->nextra + 1, sizeof(*d->extra));
	for (i = 0; i < c->nextra; i++) {
		d->extra[i].name = xstrdup(c->extra[i].name);
		conf_val_set(&d->extra[i].v, c->extra[i].v.raw, c->extra[i].v.origin,
			     c->extra[i].v.where);
	}
	d->nextra = c->nextra;
	d->warned = xcalloc(c->nwarned + 1, sizeof(char *));
	for (i = 0; i < c->nwarned; i++)
		d->warned[i] = xstrdup(c->warned[i]);
	d->nwarned = c->nwarned;
	if (conf_resolve(d, &err) < 0)
		msg_panic("conf: copy does not resolve: %s", buf_str(&err));
	buf_free(&err);
	return d;
}

/* conf_val_free - everything one value owns. */
static void conf_val_free(struct conf_val *v)
{
	xfree(v->raw);
	xfree(v->where);
	xfree(v->value);
	conf_list_free(v->list);
}

void conf_free(struct conf *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < conf_nparams; i++)
		conf_val_free(&c->vals[i]);
	for (i = 0; i < c->nextra; i++) {
		conf_val_free(&c->extra[i].v);
		xfree(c->extra[i].name);
	}
	for (i = 0; i < c->nwarned; i++)
		xfree(c->warned[i]);
	for (i = 0; i + 1 < c->ngrave; i += 2) {
		xfree(c->graveyard[i]);
		conf_list_free(c->graveyard[i + 1]);
	}
	xfree(c->graveyard);
	xfree(c->warned);
	xfree(c->extra);
	xfree(c->vals);
	xfree(c->hostname);
	xfree(c->domain);
	xfree(c->filename);
	xfree(c->dir);
	xfree(c);
}
