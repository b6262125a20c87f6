/*
 * smtpd_conf.c - read the smtpd parameters of main.cf once, before confinement.
 *
 * Called from the stage's pre-jail hook (as root, before any client input):
 * it also lists the host's interface addresses (mail/mynetworks.c), which
 * needs a netlink socket that the sandbox will not allow later. A bad mynetworks
 * entry, an unsupported domain-list entry or an unknown restriction name is
 * fatal here with the parameter named: a relay policy is never half-applied.
 * The limits that Postfix's stress-dependent defaults change are read twice,
 * as configured and as they read with stress = yes (conf_stress_copy): a
 * session uses the set its screen asks for.
 *
 * SECURITY: reads only main.cf values (trusted) and the kernel's interface
 * list. Never reads client input.
 */
#include <string.h>

#include "daemons/smtpd/smtpd.h"
#include "lib/msg.h"

static void conf_mynetworks(struct smtpd_conf *cf, struct stage *st)
{
	struct buf err = BUF_INIT;

	if (mynetworks_init(&cf->mynetworks, conf_list(st->conf, "mynetworks"),
			    conf_str(st->conf, "mynetworks_style"), &err) < 0)
		msg_fatal("mynetworks: %s", buf_str(&err));
	buf_free(&err);
}

static void conf_domains(struct smtpd_conf *cf, struct stage *st)
{
	char *const *pdms = conf_list(st->conf, "parent_domain_matches_subdomains");
	struct buf err = BUF_INIT;

	if (domlist_init(&cf->mydest, conf_list(st->conf, "mydestination"),
			 domlist_param_in(pdms, "mydestination"), &err) < 0)
		msg_fatal("mydestination: %s", buf_str(&err));
	if (domlist_init(&cf->relay_domains, conf_list(st->conf, "relay_domains"),
			 domlist_param_in(pdms, "relay_domains"), &err) < 0)
		msg_fatal("relay_domains: %s", buf_str(&err));
	buf_free(&err);
}

static void conf_lists(struct smtpd_conf *cf, struct stage *st)
{
	static const char *const names[L_COUNT] = {
		"smtpd_client_restrictions", "smtpd_helo_restrictions",
		"smtpd_sender_restrictions", "smtpd_relay_restrictions",
		"smtpd_recipient_restrictions", "smtpd_data_restrictions",
	};

	for (int i = 0; i < L_COUNT; i++)
		smtpd_check_parse(&cf->lists[i], names[i], conf_list(st->conf, names[i]));
	/* Postfix refuses to run with neither relay nor recipient restrictions. */
	if (cf->lists[L_RELAY].n == 0 && cf->lists[L_RCPT].n == 0)
		msg_fatal("smtpd_relay_restrictions and smtpd_recipient_restrictions are both "
			  "empty: that would be an open relay; set at least "
			  "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination");
}

static int conf_int_of(struct stage *st, const char *name)
{
	return (int)conf_int(st->conf, name);
}

static void conf_limits(struct smtpd_limits *l, const struct conf *c)
{
	l->timeout = (int)conf_time(c, "smtpd_timeout");
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
	memset(cf, 0, sizeof(*cf));
	conf_mynetworks(cf, st);
	conf_domains(cf, st);
	conf_lists(cf, st);
	cf->myhostname = conf_str(st->conf, "myhostname");
	cf->size_limit = conf_size(st->conf, "message_size_limit");
	cf->rcpt_limit = conf_int_of(st, "smtpd_recipient_limit");
	cf->rcpt_overshoot = conf_int_of(st, "smtpd_recipient_overshoot_limit");
	conf_limits(&cf->normal, st->conf);
	conf_stress_limits(&cf->stress, st->conf);
	cf->soft_limit = conf_int_of(st, "smtpd_soft_error_limit");
	cf->error_sleep = (int)conf_time(st->conf, "smtpd_error_sleep_time");
	cf->helo_required = conf_bool(st->conf, "smtpd_helo_required");
	cf->strict = conf_bool(st->conf, "strict_rfc821_envelopes");
	cf->disable_vrfy = conf_bool(st->conf, "disable_vrfy_command");
	cf->delay_reject = conf_bool(st->conf, "smtpd_delay_reject");
	cf->forbid_unauth_pipe = conf_bool(st->conf, "smtpd_forbid_unauth_pipelining");
	cf->reject_code = conf_int_of(st, "reject_code");
	cf->defer_code = conf_int_of(st, "defer_code");
	cf->relay_code = conf_int_of(st, "relay_domains_reject_code");
	cf->non_fqdn_code = conf_int_of(st, "non_fqdn_reject_code");
	cf->invalid_hostname_code = conf_int_of(st, "invalid_hostname_reject_code");
	cf->unknown_client_code = conf_int_of(st, "unknown_client_reject_code");
	cf->max_use = conf_int_of(st, "max_use");
	cf->max_idle = (int)conf_time(st->conf, "max_idle");
	cf->peername_lookup = conf_bool(st->conf, "smtpd_peername_lookup");
	cf->mail_rate_limit = conf_int_of(st, "smtpd_client_message_rate_limit");
	cf->rcpt_rate_limit = conf_int_of(st, "smtpd_client_recipient_rate_limit");
}
