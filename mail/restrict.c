/*
 * restrict.c - restriction names, list parsing and the open-relay analysis
 * (see restrict.h).
 *
 * Called by the smtpd stage when it loads its configuration and by moatd's
 * start-up check, through stagecf/smtpd.c. Lists come from main.cf and
 * master.cf (trusted), but a list is still checked item by item: the only
 * way through is a name in the table below.
 */
#include <string.h>

#include "lib/xmem.h"
#include "mail/restrict.h"

static const char *const restrict_names[RESTRICT_COUNT] = {
	[RESTRICT_PERMIT_MYNETWORKS] = "permit_mynetworks",
	[RESTRICT_PERMIT_SASL] = "permit_sasl_authenticated",
	[RESTRICT_REJECT_UNAUTH_DEST] = "reject_unauth_destination",
	[RESTRICT_DEFER_UNAUTH_DEST] = "defer_unauth_destination",
	[RESTRICT_PERMIT_AUTH_DEST] = "permit_auth_destination",
	[RESTRICT_PERMIT] = "permit",
	[RESTRICT_REJECT] = "reject",
	[RESTRICT_DEFER] = "defer",
	[RESTRICT_REJECT_NON_FQDN_SENDER] = "reject_non_fqdn_sender",
	[RESTRICT_REJECT_NON_FQDN_RCPT] = "reject_non_fqdn_recipient",
	[RESTRICT_REJECT_NON_FQDN_HELO] = "reject_non_fqdn_helo_hostname",
	[RESTRICT_REJECT_INVALID_HELO] = "reject_invalid_helo_hostname",
	[RESTRICT_REJECT_UNAUTH_PIPELINING] = "reject_unauth_pipelining",
	[RESTRICT_REJECT_UNKNOWN_CLIENT] = "reject_unknown_client_hostname",
	[RESTRICT_REJECT_UNKNOWN_REVERSE] = "reject_unknown_reverse_client_hostname",
	[RESTRICT_WARN_IF_REJECT] = "warn_if_reject",
};

const char *restrict_name(enum restrict_id r)
{
	return r < RESTRICT_COUNT ? restrict_names[r] : "?";
}

/* restrict_lookup - the id of a name, or RESTRICT_COUNT. */
static enum restrict_id restrict_lookup(const char *name)
{
	int k = 0;

	while (k < RESTRICT_COUNT && strcmp(name, restrict_names[k]) != 0)
		k++;
	return (enum restrict_id)k;
}

int restrict_parse(struct restrict_list *l, const char *param, char *const *items,
		   struct buf *why)
{
	size_t n = 0;

	while (items && items[n])
		n++;
	l->param = param;
	l->n = 0;
	l->v = xcalloc(n + 1, sizeof(*l->v));
	for (size_t i = 0; i < n; i++) {
		enum restrict_id r = restrict_lookup(items[i]);

		if (r == RESTRICT_COUNT) {
			buf_printf(why, "unknown or unsupported restriction \"%.80s\"", items[i]);
			if (strncmp(items[i], "check_", 6) == 0)
				buf_append_str(why, " (access tables and policy services are not "
					       "implemented by moat yet; it refuses to start without "
					       "the check rather than skip it)");
			restrict_free(l);
			return -1;
		}
		l->v[l->n++] = r;
	}
	return 0;
}

void restrict_free(struct restrict_list *l)
{
	xfree(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Outcomes of one restriction, or of one list, for the stranger below. */
enum restrict_verdict { VERDICT_DUNNO, VERDICT_OK, VERDICT_REJECT };

/*
 * restrict_stranger - what r does to the worst case: a client outside
 * mynetworks, not authenticated, relaying to a foreign domain. Everything
 * else (HELO name, sender, the client's own DNS, its pipelining) is the
 * attacker's choice, so a restriction that tests it never stops him.
 */
static enum restrict_verdict restrict_stranger(enum restrict_id r)
{
	switch (r) {
	case RESTRICT_PERMIT:
		return VERDICT_OK;
	case RESTRICT_REJECT:
	case RESTRICT_DEFER:
	case RESTRICT_REJECT_UNAUTH_DEST:
	case RESTRICT_DEFER_UNAUTH_DEST:
		return VERDICT_REJECT;
	default:
		return VERDICT_DUNNO;
	}
}

/* restrict_list_stranger - a whole list for the stranger; *at = the
 * restriction that decided (or l->n). warn_if_reject turns the next
 * restriction's reject into a log line, as smtpd does. */
static enum restrict_verdict restrict_list_stranger(const struct restrict_list *l, size_t *at)
{
	int warn = 0;

	for (size_t i = 0; i < l->n; i++) {
		enum restrict_verdict v;

		if (l->v[i] == RESTRICT_WARN_IF_REJECT) {
			warn = 1;
			continue;
		}
		v = restrict_stranger(l->v[i]);
		if (v == VERDICT_REJECT && warn)
			v = VERDICT_DUNNO;
		warn = 0;
		if (v != VERDICT_DUNNO) {
			*at = i;
			return v;
		}
	}
	*at = l->n;
	return VERDICT_DUNNO;
}

int restrict_open_relay(const struct restrict_list *lists, size_t n, struct buf *why)
{
	size_t i, at, said = 0;

	for (i = 0; i < n; i++)
		if (restrict_list_stranger(&lists[i], &at) == VERDICT_REJECT)
			return 0;
	for (i = 0; i < n; i++) {
		if (restrict_list_stranger(&lists[i], &at) != VERDICT_OK)
			continue;
		buf_printf(why, "%s%s accepts it at \"%s\"", said++ ? "; " : "", lists[i].param,
			   restrict_name(lists[i].v[at]));
	}
	if (said == 0)
		buf_append_str(why, "no restriction list rejects it");
	return 1;
}
