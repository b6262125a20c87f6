/*
 * lookup_refuse.c - start-up refusal of table answers moat cannot honour.
 *
 * Content filters do not exist in moat yet, so a FILTER action in a table
 * of header_checks, mime_header_checks, nested_header_checks, body_checks
 * or of an access restriction would have nowhere to send the mail. At run
 * time such an answer defers the message; this check, run in the confined
 * check mode before moatd forks anything (and on reload), refuses the
 * configuration with the table's file and line, so the administrator
 * learns of it at once instead of from a growing deferred queue.
 *
 * SECURITY: reads only tables already opened by maps/ from the broker's
 * fds; it opens nothing.
 */
#include <string.h>
#include <strings.h>

#include "daemons/lookup/lookup.h"
#include "lib/msg.h"

/* Parameters whose tables answer with header_checks(5) actions. */
static const char *const refuse_content_params[] = {
	"header_checks", "mime_header_checks", "nested_header_checks", "body_checks", NULL,
};

/* refuse_names - 1 if where names parameter word (n bytes) after a ": ". */
static int refuse_names(const char *where, const char *word, size_t n)
{
	for (const char *p = where; (p = strstr(p, ": ")) != NULL; p += 2) {
		const char *w = p + 2;

		if (strncmp(w, word, n) == 0 && (w[n] == 0 || w[n] == ',' || w[n] == ' '))
			return 1;
	}
	return 0;
}

/* refuse_is_action_table - 1 if some parameter naming the table takes
 * actions from it: a content check, or a restriction list (access maps). */
static int refuse_is_action_table(const char *where)
{
	for (size_t i = 0; refuse_content_params[i]; i++)
		if (refuse_names(where, refuse_content_params[i], strlen(refuse_content_params[i])))
			return 1;
	for (const char *p = where; (p = strstr(p, "_restrictions")) != NULL; p++) {
		size_t n = strlen("_restrictions");

		if (p[n] == 0 || p[n] == ',' || p[n] == ' ')
			return 1;
	}
	return 0;
}

struct refuse_ctx {
	const struct lookup_table *tb;
	size_t found;
};

static int refuse_filter(void *ctx, const char *where, const char *value)
{
	struct refuse_ctx *rc = ctx;

	value += strspn(value, " \t");
	if (strncasecmp(value, "FILTER", 6) == 0 && (value[6] == 0 || value[6] == ' ' ||
						    value[6] == '\t')) {
		msg_error("%s: FILTER: moat has no content filter to pass mail to (the table is "
			  "named by %s)", where, rc->tb->where);
		rc->found++;
	}
	return 0;
}

size_t lookup_tables_refuse(struct lookup_tables *t)
{
	struct buf err = BUF_INIT;
	size_t bad = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct refuse_ctx rc = { &t->v[i], 0 };

		if (t->v[i].map == NULL || !refuse_is_action_table(t->v[i].where))
			continue;
		buf_reset(&err);
		if (map_each(t->v[i].map, refuse_filter, &rc, &err) < 0) {
			msg_error("%s: table %s: %s", t->v[i].where, t->v[i].spec, buf_str(&err));
			rc.found++;
		}
		bad += rc.found;
	}
	buf_free(&err);
	return bad;
}
