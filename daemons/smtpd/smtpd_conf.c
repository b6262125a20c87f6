/*
 * smtpd_conf.c - read the smtpd parameters of main.cf once, before confinement.
 *
 * Called from the stage's pre-jail hook (as root, before any client input).
 * Networks, domains, restriction lists and the other checked options come
 * from stagecf/smtpd_policy.c, the same code moatd's start-up check runs,
 * so a configuration moatd accepted cannot stop smtpd; should it happen
 * anyway (main.cf edited since), smtpd stops with the file and line rather
 * than run a relay policy it cannot apply. The limits that Postfix's
 * stress-dependent defaults change are read twice, as configured and as
 * they read with stress = yes (conf_stress_copy): a session uses the set
 * its screen asks for.
 *
 * SECURITY: reads only main.cf values (trusted) and the kernel's interface
 * list. Never reads client input.
 */
#include <string.h>
#include <time.h>

#include <strings.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"

static void conf_limits(struct smtpd_limits *l, const struct conf *c)
{
	l->timeout = (int)conf_time(c, "smtpd_timeout");
	l->starttls_timeout = (int)conf_time(c, "smtpd_starttls_timeout");
	l->hard_limit = (int)conf_int(c, "smtpd_hard_error_limit");
	l->junk_limit = (int)conf_int(c, "smtpd_junk_command_limit");
	l->deadline = conf_bool(c, "smtpd_per_request_deadline");
	l->min_data_rate = (int)conf_int(c, "smtpd_min_data_rate");
}

/* conf_stress_limits - the limits as they read with stress = yes. */
static void conf_stress_limits(struct smtpd_limits *l, const struct conf *c)
{
	struct buf err = BUF_INIT;
	struct conf *sc = conf_stress_copy(c, &err);

	if (sc == NULL && err.len > 0)
		msg_fatal("%s", buf_str(&err));
	conf_limits(l, sc ? sc : c);
	conf_free(sc);
	buf_free(&err);
}

void smtpd_conf_load(struct smtpd_conf *cf, struct stage *st)
{
	int64_t wait;
	const struct conf *c = st->conf;
	struct buf err = BUF_INIT;

	memset(cf, 0, sizeof(*cf));
	if (smtpd_policy_load(&cf->pol, c, SMTPD_POLICY_INTERFACES, &err) < 0)
		msg_fatal("%s", buf_str(&err));
	buf_free(&err);
	tzset();	/* $localtime in reject footers: the zone files are outside the jail */
	cf->myhostname = conf_str(c, "myhostname");
	cf->size_limit = conf_size(c, "message_size_limit");
	cf->rcpt_limit = (int)conf_int(c, "smtpd_recipient_limit");
	cf->rcpt_overshoot = (int)conf_int(c, "smtpd_recipient_overshoot_limit");
	conf_limits(&cf->normal, c);
	conf_stress_limits(&cf->stress, c);
	cf->soft_limit = (int)conf_int(c, "smtpd_soft_error_limit");
	cf->error_sleep = (int)conf_time(c, "smtpd_error_sleep_time");
	cf->helo_required = conf_bool(c, "smtpd_helo_required");
	cf->strict = conf_bool(c, "strict_rfc821_envelopes");
	cf->disable_vrfy = conf_bool(c, "disable_vrfy_command");
	cf->delay_reject = conf_bool(c, "smtpd_delay_reject");
	cf->forbid_unauth_pipe = conf_bool(c, "smtpd_forbid_unauth_pipelining");
	cf->reject_code = (int)conf_int(c, "reject_code");
	cf->defer_code = (int)conf_int(c, "defer_code");
	cf->relay_code = (int)conf_int(c, "relay_domains_reject_code");
	cf->non_fqdn_code = (int)conf_int(c, "non_fqdn_reject_code");
	cf->invalid_hostname_code = (int)conf_int(c, "invalid_hostname_reject_code");
	cf->unknown_client_code = (int)conf_int(c, "unknown_client_reject_code");
	cf->rbl_code = (int)conf_int(c, "maps_rbl_reject_code");
	cf->unknown_addr_code = (int)conf_int(c, "unknown_address_reject_code");
	cf->unknown_helo_code = (int)conf_int(c, "unknown_hostname_reject_code");
	cf->addr_tempfail_defer = strcasecmp(conf_str(c, "unknown_address_tempfail_action"),
					     "defer") == 0;
	cf->helo_tempfail_defer = strcasecmp(conf_str(c, "unknown_helo_hostname_tempfail_action"),
					     "defer") == 0;
	cf->access.reject = (int)conf_int(c, "access_map_reject_code");
	cf->access.defer = (int)conf_int(c, "access_map_defer_code");
	cf->policy_default = conf_str(c, "smtpd_policy_service_default_action");
	cf->policy_context = conf_str(c, "smtpd_policy_service_policy_context");
	/* every attempt the policy stage may make, and a margin; at most an hour */
	wait = (conf_time(c, "smtpd_policy_service_timeout")
		+ conf_time(c, "smtpd_policy_service_retry_delay"))
	       * conf_int(c, "smtpd_policy_service_try_limit") + 5;
	cf->policy_wait_ms = (int)(wait < 3600 ? wait : 3600) * 1000;
	cf->max_use = (int)conf_int(c, "max_use");
	cf->max_idle = (int)conf_time(c, "max_idle");
	cf->peername_lookup = conf_bool(c, "smtpd_peername_lookup");
	cf->mail_rate_limit = (int)conf_int(c, "smtpd_client_message_rate_limit");
	cf->rcpt_rate_limit = (int)conf_int(c, "smtpd_client_recipient_rate_limit");
	cf->port_logging = conf_bool(c, "smtpd_client_port_logging");
}
