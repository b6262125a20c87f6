/*
 * stagedef.c - lookups in the stage table of sandbox/stages.def.
 *
 * Called by the broker (which stage does what), the sandbox policy lookup and
 * the tests. Data only: it must never answer yes for a name the table does
 * not list.
 */
#include <string.h>

#include "sandbox/stagedef.h"

static const struct stagedef stagedefs[STAGEDEF_COUNT] = {
#define STAGE(sid, nm, fl) [sid] = { .id = sid, .name = nm, .flags = (fl) },
#include "sandbox/stages.def"
#undef STAGE
};

const struct stagedef *stagedef_lookup(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < STAGEDEF_COUNT; i++)
		if (strcmp(stagedefs[i].name, name) == 0)
			return &stagedefs[i];
	return NULL;
}

const struct stagedef *stagedef_at(size_t i)
{
	return i < STAGEDEF_COUNT ? &stagedefs[i] : NULL;
}

const struct stagedef *stagedef_listener(void)
{
	for (size_t i = 0; i < STAGEDEF_COUNT; i++)
		if (stagedefs[i].flags & STAGEDEF_F_LISTENS)
			return &stagedefs[i];
	return NULL;
}

int stagedef_has(const char *name, unsigned flags)
{
	const struct stagedef *d = stagedef_lookup(name);

	return d != NULL && (d->flags & flags) == flags;
}
