/*
 * smtpd_opts.c - main.cf options that shape what smtpd says and logs:
 * smtpd_reject_footer, smtpd_discard_ehlo_keywords, smtpd_noop_commands,
 * smtpd_client_port_logging and debug_peer_list/debug_peer_level.
 *
 * Called by the session (namaddr, debug level, NOOP), the EHLO handler and
 * the reply writer. The lists were checked at start-up
 * (stagecf/smtpd_policy.c).
 *
 * SECURITY: the client's bytes reach this file only as the command word
 * compared with smtpd_noop_commands and as the verbose trace, which goes
 * through the session's printable filter. A debug peer is chosen by
 * address or verified name; it only ever makes the logs longer.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"
#include "mail/reply_footer.h"

/* smtpd_opts_namaddr - "name[addr]", or "name[addr]:port" with
 * smtpd_client_port_logging, for every log line about the client. */
void smtpd_opts_namaddr(struct smtpd_session *s)
{
	buf_reset(&s->namaddr);
	buf_printf(&s->namaddr, "%s[%s]", s->name, s->addr);
	if (s->cf->port_logging)
		buf_printf(&s->namaddr, ":%u", s->port);
}

/* smtpd_opts_debug_level - debug_peer_level if the client is listed in
 * debug_peer_list (by address or verified name), else 0. */
int smtpd_opts_debug_level(const struct smtpd_session *s)
{
	const struct smtpd_policy *p = &s->cf->pol;

	return hostlist_match(&p->debug_peers, s->name, s->family, s->ip) ? p->debug_peer_level : 0;
}

/* smtpd_opts_noop - 1 if the command's first word is in smtpd_noop_commands:
 * Postfix answers those 250 without any syntax check or change of state. */
int smtpd_opts_noop(const struct smtpd_session *s, const char *line, size_t len)
{
	char *const *cmds = s->cf->pol.noop_commands;
	size_t n = 0;

	while (n < len && line[n] != ' ')
		n++;
	for (size_t i = 0; cmds && cmds[i]; i++)
		if (strlen(cmds[i]) == n && strncasecmp(cmds[i], line, n) == 0)
			return 1;
	return 0;
}

/* opts_discarded - 1 if keyword is in smtpd_discard_ehlo_keywords. */
static int opts_discarded(const struct smtpd_session *s, const char *keyword)
{
	char *const *d = s->cf->pol.ehlo_discard;

	for (size_t i = 0; d && d[i]; i++)
		if (strcasecmp(d[i], keyword) == 0)
			return 1;
	return 0;
}

/* smtpd_opts_ehlo - the EHLO reply: moat's keywords less the discarded
 * ones, which Postfix logs unless the list holds "silent-discard". */
void smtpd_opts_ehlo(struct smtpd_session *s)
{
	static const char *const keywords[] = {
		"PIPELINING", "SIZE", "STARTTLS", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", NULL,
	};
	struct buf r = BUF_INIT, gone = BUF_INIT;
	size_t last = 0;

	buf_printf(&r, "-%s", s->cf->myhostname);	/* after "250" */
	for (int i = 0; keywords[i]; i++) {
		if (strcmp(keywords[i], "STARTTLS") == 0 && (s->cf->tls_ctx == NULL || s->ssl))
			continue;
		if (opts_discarded(s, keywords[i])) {
			buf_printf(&gone, "%s%s", gone.len ? " " : "", keywords[i]);
			continue;
		}
		last = r.len + 5;
		buf_printf(&r, "\r\n250-%s", keywords[i]);
		if (strcmp(keywords[i], "SIZE") == 0 && s->cf->size_limit)
			buf_printf(&r, " %llu", (unsigned long long)s->cf->size_limit);
	}
	r.data[last] = ' ';	/* the last line is "250 ..." */
	if (gone.len && !opts_discarded(s, "silent-discard"))
		msg_info("discarding EHLO keywords: %s", buf_str(&gone));
	smtpd_reply(s, "250%s", buf_str(&r));
	buf_free(&r);
	buf_free(&gone);
}

/* smtpd_opts_trace - at verbose level (debug_peer_list), each line of the
 * reply that starts at out[start], as Postfix logs "> client: reply". */
void smtpd_opts_trace(struct smtpd_session *s, size_t start)
{
	const char *p = s->out.data + start, *end = s->out.data + s->out.len;

	while (p < end) {
		const char *nl = memchr(p, '\r', (size_t)(end - p));
		int n = (int)((nl ? nl : end) - p);

		msg_info("> %s: %.*s", buf_str(&s->namaddr), n, p);
		p = nl ? nl + 2 : end;
	}
}

/* smtpd_opts_footer - smtpd_reject_footer after the 4xx/5xx reply that
 * starts at out[start]. */
void smtpd_opts_footer(struct smtpd_session *s, size_t start)
{
	struct reply_footer_vars v;
	char port[12], when[64];
	struct tm tm;
	time_t now = time(NULL);

	snprintf(port, sizeof(port), "%u", s->port);
	if (localtime_r(&now, &tm) == NULL || strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "?");
	v.client_address = s->addr;
	v.client_port = port;
	v.localtime = when;
	v.server_name = s->cf->myhostname;
	(void)reply_footer_add(&s->out, start, s->cf->pol.reject_footer, &v);
}
