/*
 * stagedef.h - the table of moat's stages (sandbox/stages.def): name and
 * flags of each, and its index into the sandbox policy table.
 */
#ifndef MOAT_SANDBOX_STAGEDEF_H
#define MOAT_SANDBOX_STAGEDEF_H

#include <stddef.h>

#define STAGEDEF_F_LISTENS	0x01
#define STAGEDEF_F_LOG_SINK	0x02
#define STAGEDEF_F_ONE_CLIENT	0x04
#define STAGEDEF_F_SHARES	0x08
#define STAGEDEF_F_FANS_OUT	0x10
#define STAGEDEF_F_SCREENED	0x20
#define STAGEDEF_F_TABLES	0x40
#define STAGEDEF_F_KEYS		0x80
#define STAGEDEF_F_CHECKED	0x100	/* moatd runs it once in check mode before start and reload */

/* Open channels a stage without FANS_OUT may hold to one service. */
#define STAGEDEF_PEER_CHANNELS	2

enum stagedef_id {
#define STAGE(id, name, flags) id,
#include "sandbox/stages.def"
#undef STAGE
	STAGEDEF_COUNT
};

struct stagedef {
	enum stagedef_id id;
	const char *name;
	unsigned flags;
};

/* stagedef_lookup - the stage called name, NULL if there is none. */
const struct stagedef *stagedef_lookup(const char *name);

/* stagedef_at - the i-th stage, NULL past the end. */
const struct stagedef *stagedef_at(size_t i);

/* stagedef_listener - the LISTENS stage (screen), which fronts every inet service. */
const struct stagedef *stagedef_listener(void);

/* stagedef_has - 1 if the stage called name exists and has every bit of flags. */
int stagedef_has(const char *name, unsigned flags);

#endif
