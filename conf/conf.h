/*
 * conf.h - moat's configuration: main.cf parameters and master.cf services.
 *
 * main.cf syntax is Postfix's: "name = value", '#' comment lines, a line that
 * starts with white space continues the previous one, $name and ${name}
 * expand (loops are detected and reported). Every parameter moat knows is in
 * one table (conf/params.c): name, type, Postfix-compatible default, one-line
 * doc. An unknown name draws a warning naming the nearest known parameter; a
 * known parameter that moat does not implement draws a warning saying so; a
 * bad value is an error "file:line: reason" that stops start-up.
 */
#ifndef MOAT_CONF_CONF_H
#define MOAT_CONF_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum conf_type {
	CONF_STR,	/* free text */
	CONF_BOOL,	/* yes/no (also true/false, 1/0 on input) */
	CONF_INT,	/* decimal integer within [min, max] */
	CONF_TIME,	/* integer with unit s m h d w (default unit per param) */
	CONF_SIZE,	/* byte count */
	CONF_LIST,	/* separated by commas and/or white space */
	CONF_TABLES,	/* list of type:name lookup tables */
};

#define CONF_F_UNIMPLEMENTED	0x01	/* known Postfix name moat does not implement */
#define CONF_F_RESTART		0x02	/* takes effect only after stop+start */
#define CONF_F_DYNAMIC		0x04	/* default computed at load (myhostname, mydomain) */
/* With CONF_F_UNIMPLEMENTED: a value that asks for a protection moat cannot
 * give (a TLS level above may, a content check, a table) stops the load
 * with file:line instead of a warning. Safe values: empty, "no" for a
 * boolean, or one of the entry's choices. */
#define CONF_F_FAILCLOSED	0x08
/* Taken as written, without $name expansion: the stage replaces its own
 * attributes (smtpd_reject_footer's $client_address). */
#define CONF_F_RAW		0x10

struct conf_param_def {
	const char *name;
	enum conf_type type;
	const char *defval;	/* as Postfix writes it; may contain $name */
	int64_t min, max;	/* CONF_INT/TIME/SIZE bounds, in base units */
	char unit;		/* CONF_TIME default unit: 's', 'm', 'h', 'd' */
	unsigned flags;
	const char *doc;	/* one line */
	const char *choices;	/* STR/LIST: allowed words, blank-separated; NULL = any */
};

/* The parameter table (conf/params.c). */
extern const struct conf_param_def conf_params[];
extern const size_t conf_nparams;
const struct conf_param_def *conf_param_lookup(const char *name);
const char *conf_param_nearest(const char *name);

struct conf;

/*
 * conf_load - read <dir>/main.cf (a missing file means all defaults). Returns
 * NULL and a "file:line: reason" text in *err on a bad value or syntax error.
 * Warnings (unknown or unimplemented names) go to msg_warn.
 */
struct conf *conf_load(const char *dir, struct buf *err);
void conf_free(struct conf *c);

/* conf_load_text - parse main.cf text from memory (conf_load reads the file
 * and calls this; the fuzzer calls it directly). filename is used in messages. */
struct conf *conf_load_text(const char *text, size_t len, const char *filename,
			    struct buf *err);

/* conf_dup - an independent copy (main.cf plus overrides so far), so that a
 * caller can apply one master.cf service's -o overrides without touching the
 * shared configuration. */
struct conf *conf_dup(const struct conf *c);

/* conf_default - the default value of a known parameter, unexpanded (for
 * CONF_F_DYNAMIC parameters: the value computed at load). */
const char *conf_default(const struct conf *c, const char *name);

/* conf_expand - expand $name, ${name}, $(name), ${name?text}, ${name:text}
 * in text against c into out. -1 and a reason in *err on a loop. */
int conf_expand(const struct conf *c, const char *text, struct buf *out, struct buf *err);

/*
 * conf_stress_copy - a copy of c as it reads with stress = yes (Postfix's
 * ${stress?{x}:{y}} defaults take their stress value), for a process that
 * serves both normal and stressed sessions. NULL with err empty when c sets
 * stress itself (forced on or off in main.cf or by -o: one reading only);
 * NULL with err set when a value is invalid under stress.
 */
struct conf *conf_stress_copy(const struct conf *c, struct buf *err);

/*
 * Parameters named <transport><suffix>, built at run time (qmgr reads
 * smtp_destination_concurrency_limit for transport "smtp"). Every suffix is
 * registered here and in conf/transport.c; tests/check_params.py counts a
 * table name ending in a registered suffix as read.
 */
#define CONF_SUFFIX_CONCURRENCY	"_destination_concurrency_limit"
#define CONF_SUFFIX_RECIPIENTS	"_destination_recipient_limit"
#define CONF_SUFFIX_RATE_DELAY	"_destination_rate_delay"
extern const char *const conf_transport_suffixes[];	/* NULL-terminated */
/* conf_transport_param - name = <transport><suffix>; 1 if the table has it. */
int conf_transport_param(const char *transport, const char *suffix, struct buf *name);

/* CONF_NAME - a parameter name kept in a table and read later through a
 * conf_*() accessor; tests/check_params.py counts it as a read. */
#define CONF_NAME(name)	(name)

#define CONF_FILE_MAX	((size_t)4 << 20)	/* main.cf and master.cf size cap */

/* conf_set - set name=value as a -o override (where: "master.cf:12"). The
 * value is validated (and everything that expands it re-checked); on error c
 * is unchanged. Pointers returned earlier by the accessors stay valid until
 * conf_free. A parameter moat does not implement draws a warning and 0. */
int conf_set(struct conf *c, const char *name, const char *value, const char *where,
	     struct buf *err);

/* Typed access to the expanded, validated value of a known parameter. A name
 * that is not in the table is a bug in the caller (msg_panic). */
const char *conf_str(const struct conf *c, const char *name);
int conf_bool(const struct conf *c, const char *name);
int64_t conf_int(const struct conf *c, const char *name);
int64_t conf_time(const struct conf *c, const char *name);	/* seconds */
uint64_t conf_size(const struct conf *c, const char *name);
/* conf_list - items of a LIST/TABLES parameter; NULL-terminated, owned by c. */
char *const *conf_list(const struct conf *c, const char *name);

/* What moatconf prints: the raw (unexpanded) value and whether main.cf set it. */
const char *conf_raw(const struct conf *c, const char *name);
int conf_is_set(const struct conf *c, const char *name);
const char *conf_dir(const struct conf *c);
/* conf_where - where name was set ("main.cf:12", "master.cf:3"); NULL if
 * it has its default value. For "file:line: parameter name: reason". */
const char *conf_where(const struct conf *c, const char *name);
/* conf_filename - the main.cf path conf_load read (for defaults in messages). */
const char *conf_filename(const struct conf *c);
/* conf_extra - the i-th name main.cf defines that the table does not know
 * (a macro for $name, or a typo), with its raw value; NULL past the end. */
const char *conf_extra(const struct conf *c, size_t i, const char **raw);

/* conf_edit - atomically rewrite <dir>/main.cf with name = value (moatconf -e). */
int conf_edit(const char *dir, const char *name, const char *value, struct buf *err);
/* conf_editv - the same for n "name=value" assignments, validated together
 * and written in one rename. Unknown names are refused (with a suggestion). */
int conf_editv(const char *dir, char *const *assign, size_t n, struct buf *err);

/* master.cf: one entry per service line. '-' columns take the defaults. */
struct master_service {
	char *name;		/* "smtp", "127.0.0.1:2525", "cleanup" */
	char *type;		/* inet, unix, pass */
	int private_;		/* y/n */
	int unpriv;
	int chroot;
	int wakeup;		/* seconds, 0 = none */
	int maxproc;		/* 0 = unlimited (takes default_process_limit if '-') */
	char *command;		/* "smtpd", "cleanup", ... = the stage name */
	char **args;		/* other arguments, NULL-terminated */
	char **overrides;	/* "name=value" from -o, NULL-terminated */
	char *where;		/* "master.cf:12" */
	int wakeup_if_used;	/* wakeup column ended in '?' */
};

struct master_cf {
	struct master_service *svc;
	size_t nsvc;
};

/* conf_apply_service - set service_name and process_name (what the broker
 * tells a stage it runs as), then the "name=value" overrides in order; on
 * error err says why, naming where ("master.cf:12"). */
int conf_apply_service(struct conf *c, const char *service, const char *command,
		       char *const *overrides, const char *where, struct buf *err);
/* conf_service - a new copy of c as the stage of sv reads it; NULL and err. */
struct conf *conf_service(const struct conf *c, const struct master_service *sv,
			  struct buf *err);

/* master_load - read <dir>/master.cf; NULL and "master.cf:N: reason" on error. */
struct master_cf *master_load(const char *dir, const struct conf *c, struct buf *err);
void master_free(struct master_cf *m);
/* master_load_text - the same from memory (filename is used in messages). */
struct master_cf *master_load_text(const char *text, size_t len, const char *filename,
				   const struct conf *c, struct buf *err);
/* master_service_disabled - does c's master_service_disable name sv: its
 * type, or name/type (Postfix)? */
int master_service_disabled(const struct conf *c, const struct master_service *sv);

#endif
