/*
 * test_conf_params.c - the parameter table (conf/params.c): names unique
 * and well-formed, bounds sane, Postfix defaults where promised, and the
 * unimplemented flag on what moat does not do.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "conf/conf.h"
#include "test_conf_util.h"

/* Every entry: a unique word-character name, a doc line, sane bounds. */
static void test_params_wellformed(void **state)
{
	size_t i, j, unimpl = 0;

	(void)state;
	assert_true(conf_nparams > 200);
	for (i = 0; i < conf_nparams; i++) {
		const struct conf_param_def *d = &conf_params[i];

		assert_true(strspn(d->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(d->name));
		assert_non_null(d->defval);
		assert_true(d->doc && strlen(d->doc) > 5 && !strchr(d->doc, '\n'));
		assert_ptr_equal(conf_param_lookup(d->name), d);
		if (d->type == CONF_INT || d->type == CONF_TIME || d->type == CONF_SIZE)
			assert_true(d->min >= 0 && d->min <= d->max);
		if (d->type == CONF_TIME)
			assert_non_null(strchr("smhdw", d->unit ? d->unit : 'x'));
		for (j = i + 1; j < conf_nparams; j++)
			if (strcmp(d->name, conf_params[j].name) == 0)
				fail_msg("%s is in the table twice", d->name);
		unimpl += (d->flags & CONF_F_UNIMPLEMENTED) != 0;
	}
	assert_true(unimpl >= 40);
	assert_null(conf_param_lookup("no_such_parameter"));
	assert_null(conf_param_lookup(""));
}

/* Defaults the design promises (Postfix's, or moat's stated ones).
 * Whether moat implements each is tests/check_params.py's to say: an
 * implemented parameter must be read by some code. */
static void test_params_defaults(void **state)
{
	static const char *const want[][2] = {
		{ "queue_directory", "/var/spool/moat" }, { "config_directory", "/etc/moat" },
		{ "mail_owner", "moat" }, { "network_user", "moat-net" }, { "helper_user", "moat-aux" },
		{ "tlskey_user", "moat-key" },
		{ "myorigin", "$myhostname" }, { "mydestination", "$myhostname, localhost.$mydomain, localhost" },
		{ "mynetworks", "" }, { "mynetworks_style", "host" }, { "inet_interfaces", "all" },
		{ "inet_protocols", "all" }, { "relay_domains", "" }, { "relayhost", "" },
		{ "default_transport", "smtp" }, { "relay_transport", "relay" }, { "mail_name", "moat" },
		{ "smtpd_banner", "$myhostname ESMTP $mail_name" }, { "syslog_name", "moat" },
		{ "syslog_facility", "mail" }, { "maillog_file", "" }, { "default_process_limit", "100" },
		{ "max_use", "100" }, { "max_idle", "100s" },
		{ "ipc_timeout", "3600s" }, { "queue_minfree", "0" }, { "message_size_limit", "10240000" },
		{ "header_size_limit", "102400" }, { "line_length_limit", "2048" }, { "hopcount_limit", "50" },
		{ "smtpd_recipient_limit", "1000" }, { "smtpd_timeout", "${stress?{10}:{300}}s" },
		{ "smtpd_soft_error_limit", "10" }, { "smtpd_hard_error_limit", "${stress?{1}:{20}}" },
		{ "smtpd_error_sleep_time", "1s" }, { "smtpd_helo_required", "yes" },
		{ "strict_rfc821_envelopes", "yes" }, { "disable_vrfy_command", "yes" },
		{ "smtpd_delay_reject", "yes" },
		{ "smtpd_relay_restrictions", "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination" },
		{ "smtpd_forbid_bare_newline", "normal" }, { "smtpd_forbid_unauth_pipelining", "yes" },
		{ "smtpd_client_connection_count_limit", "50" }, { "maximal_queue_lifetime", "5d" },
		{ "bounce_queue_lifetime", "5d" }, { "minimal_backoff_time", "300s" },
		{ "maximal_backoff_time", "4000s" }, { "queue_run_delay", "300s" }, { "delay_warning_time", "0h" },
		{ "default_destination_concurrency_limit", "20" }, { "initial_destination_concurrency", "5" },
		{ "default_destination_recipient_limit", "50" }, { "qmgr_message_active_limit", "20000" },
		{ "bounce_size_limit", "50000" }, { "notify_classes", "resource, software" },
		{ "2bounce_notice_recipient", "postmaster" },
		{ "smtp_connect_timeout", "30s" }, { "smtp_helo_timeout", "300s" },
		{ "smtp_data_init_timeout", "120s" }, { "smtp_data_xfer_timeout", "180s" },
		{ "smtp_data_done_timeout", "600s" }, { "smtp_quit_timeout", "300s" },
		{ "smtp_skip_4xx_greeting", "yes" }, { "smtp_skip_5xx_greeting", "yes" },
		{ "smtp_helo_name", "$myhostname" }, { "smtp_connection_cache_on_demand", "yes" },
		{ "smtp_connection_cache_time_limit", "2s" }, { "smtp_mx_address_limit", "5" },
		{ "smtp_mx_session_limit", "2" }, { "smtp_tcp_port", "smtp" }, { "disable_dns_lookups", "no" },
		{ "dns_resolver_address", "" }, { "debug_peer_level", "2" },
		{ "in_flow_delay", "1s" }, { "master_service_disable", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct conf_param_def *d = conf_param_lookup(want[i][0]);

		if (!d)
			fail_msg("%s is missing from the table", want[i][0]);
		if (strcmp(d->defval, want[i][1]) != 0)
			fail_msg("%s: default \"%s\", want \"%s\"", want[i][0], d->defval, want[i][1]);
	}
}

/* What moat does not do is flagged, so that setting it draws a warning. */
static void test_params_unimplemented(void **state)
{
	static const char *const names[] = {
		"alias_maps", "alias_database", "local_recipient_maps", "home_mailbox", "mailbox_command",
		"smtpd_tls_req_ccert", "smtpd_tls_CAfile",
		"lmtp_tls_security_level", "smtpd_sasl_auth_enable", "smtpd_sasl_security_options",
		"content_filter", "smtpd_milters", "lmtp_tcp_port", "smtp_bind_address",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct conf_param_def *d = conf_param_lookup(names[i]);

		if (!d || !(d->flags & CONF_F_UNIMPLEMENTED))
			fail_msg("%s should be in the table, flagged unimplemented", names[i]);
	}
}

/* Every implemented default passes its own type check (an empty main.cf
 * loads) and typed access works for every entry of each type. */
static void test_params_defaults_valid(void **state)
{
	struct buf err = BUF_INIT;
	struct conf *c;
	size_t i;

	(void)state;
	test_capture();
	c = test_load("", &err);
	if (!c)
		fail_msg("defaults do not load: %s", buf_str(&err));
	for (i = 0; i < conf_nparams; i++) {
		const struct conf_param_def *d = &conf_params[i];

		assert_non_null(conf_str(c, d->name));
		assert_string_equal(conf_raw(c, d->name), conf_default(c, d->name));
		if (d->type == CONF_LIST || d->type == CONF_TABLES)
			assert_non_null(conf_list(c, d->name));
		else if (d->type == CONF_TIME && !(d->flags & CONF_F_UNIMPLEMENTED))
			assert_true(conf_time(c, d->name) >= d->min);
	}
	assert_int_equal(test_warnings.len, 0);
	conf_free(c);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_wellformed),
		cmocka_unit_test(test_params_defaults),
		cmocka_unit_test(test_params_unimplemented),
		cmocka_unit_test(test_params_defaults_valid),
	};

	return cmocka_run_group_tests(tests, NULL, test_conf_teardown);
}
