/*
 * test_stagecf.c - unit tests for stagecf/: smtpd's reading of main.cf
 * (networks, domains, restriction lists, open relays, options) and moatd's
 * whole-configuration check with master.cf overrides, each error with its
 * file and line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "stagecf/check.h"
#include "stagecf/smtpd_policy.h"
#include "tests/unit/test_conf_util.h"

/* policy - load main.cf text and the smtpd policy; its result, err set. */
static int policy(const char *text, struct smtpd_policy *p, struct buf *err)
{
	struct conf *c = test_load(text, err);
	int r;

	if (!c)
		fail_msg("main.cf does not load: %s", buf_str(err));
	r = smtpd_policy_load(p, c, SMTPD_POLICY_WARN, err);
	if (r == 0)
		smtpd_policy_free(p);
	conf_free(c);
	return r;
}

static void test_policy_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "# x\nsmtpd_helo_restrictions = reject_invalid_helo_hostname, reject_unknown_helo_hostnam\n",
		  "main.cf:2: parameter smtpd_helo_restrictions: unknown or unsupported restriction \"reject_unknown_helo_hostnam\"" },
		{ "smtpd_end_of_data_restrictions = check_ccert_access hash:/x\n",
		  "main.cf:1: parameter smtpd_end_of_data_restrictions: unknown or unsupported restriction \"check_ccert_access\" (moat has no TLS yet, so no client certificate could ever match" },
		{ "smtpd_etrn_restrictions = permit_mynetworks reject_etrn\n",
		  "main.cf:1: parameter smtpd_etrn_restrictions: unknown or unsupported restriction \"reject_etrn\"" },
		{ "smtpd_restriction_classes = a\nsmtpd_client_restrictions = a\n",
		  "main.cf:1: parameter smtpd_restriction_classes: restriction class \"a\" needs a definition" },
		{ "smtpd_restriction_classes = a, b\na = b\nb = a\n",
		  "main.cf:1: parameter smtpd_restriction_classes: restriction class \"a\" uses itself" },
		{ "smtpd_client_restrictions = spamhater\n",
		  "main.cf:1: parameter smtpd_client_restrictions: unknown or unsupported restriction \"spamhater\"" },
		{ "smtpd_restriction_classes = open\nopen = permit\nsmtpd_relay_restrictions = open\n",
		  "main.cf:3: parameter smtpd_relay_restrictions: a client outside mynetworks that has not authenticated could send mail to any domain (an open relay): smtpd_relay_restrictions accepts it at \"open\"" },
		{ "default_rbl_reply = $rbl_code blocked by $rbl_zone\n",
		  "main.cf:1: parameter default_rbl_reply: unknown name $rbl_zone" },
		{ "smtpd_client_restrictions = reject_rbl_client\n",
		  "main.cf:1: parameter smtpd_client_restrictions: restriction \"reject_rbl_client\" needs an argument" },
		{ "smtpd_relay_restrictions = permit\n",
		  "main.cf:1: parameter smtpd_relay_restrictions: a client outside mynetworks that has not authenticated could send mail to any domain (an open relay): smtpd_relay_restrictions accepts it at \"permit\"" },
		{ "smtpd_relay_restrictions =\n", "main.cf:1: parameter smtpd_relay_restrictions: a client outside" },
		{ "mynetworks = 127.0.0.0/8 0.0.0.0/0\n",
		  "main.cf:1: parameter mynetworks: it trusts 3702258688 public IPv4 addresses, more than the largest block ever allocated to one organisation (a /8)" },
		{ "mynetworks = ::/0\n", "main.cf:1: parameter mynetworks: it trusts 4.25e+37 public IPv6 addresses" },
		{ "mynetworks = 10.0.0.0/8 foo\n", "main.cf:1: parameter mynetworks: \"foo\": not an IP address or network (moat takes addresses and networks only)" },
		/* tables are asked of the lookup stage; files are not read */
		{ "relay_domains = !/etc/moat/relay\n", "main.cf:1: parameter relay_domains: \"!/etc/moat/relay\": files are not supported" },
		{ "mydestination = /etc/moat/dest\n", "main.cf:1: parameter mydestination:" },
		{ "proxy_interfaces = gw.example.com\n", "main.cf:1: parameter proxy_interfaces: \"gw.example.com\": not an IP address" },
		{ "debug_peer_list = hash:/etc/moat/peers\n", "main.cf:1: parameter debug_peer_list:" },
		{ "smtpd_reject_footer = see $myhostname\n", "main.cf:1: parameter smtpd_reject_footer: \"$myhostname\": the footer knows only" },
		{ "smtpd_noop_commands = ETRN, E/TRN\n", "main.cf:1: parameter smtpd_noop_commands: \"E/TRN\": not a command or keyword" },
		{ "smtpd_discard_ehlo_keywords = auth:x\n", "main.cf:1: parameter smtpd_discard_ehlo_keywords" },
	};
	struct smtpd_policy p;
	struct buf err = BUF_INIT;

	(void)state;
	test_capture();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&err);
		if (policy(cases[i].text, &p, &err) == 0 || !strstr(buf_str(&err), cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf_str(&err), cases[i].want);
	}
	buf_free(&err);
}

static void test_policy_defaults_and_values(void **state)
{
	struct smtpd_policy p;
	struct buf err = BUF_INIT;
	struct conf *c;
	unsigned char ip[16] = { 203, 0, 113, 22 };

	(void)state;
	test_capture();
	c = test_load("proxy_interfaces = 203.0.113.22\n"
		      "mynetworks = 10.0.0.0/8, [2001:db8::]/32, 17.0.0.0/8\n"
		      "debug_peer_list = example.com\ndebug_peer_level = 3\n"
		      "smtpd_reject_footer = \\c at $localtime\n"
		      "smtpd_noop_commands = ETRN\n", &err);
	assert_non_null(c);
	assert_int_equal(smtpd_policy_load(&p, c, 0, &err), 0);
	assert_int_equal(p.lists[L_RELAY].n, 3);	/* moat's default */
	assert_int_equal(p.lists[L_RELAY].v[2].id, RESTRICT_REJECT_UNAUTH_DEST);
	assert_int_equal(p.lists[L_EOD].n, 0);
	assert_string_equal(smtpd_policy_list_name(L_EOD), "smtpd_end_of_data_restrictions");
	assert_false(p.mynetworks.computed);
	assert_true(cidr_list_match(&p.mynetworks.local, AF_INET, ip));
	assert_false(cidr_list_match(&p.mynetworks.nets, AF_INET, ip));
	assert_int_equal(p.debug_peer_level, 3);
	assert_true(hostlist_match(&p.debug_peers, "mx.example.com", AF_INET, ip));
	assert_string_equal(p.reject_footer, "\\c at $localtime");
	assert_string_equal(p.noop_commands[0], "ETRN");
	smtpd_policy_free(&p);
	conf_free(c);
	buf_free(&err);
}

static void test_policy_open_relay_acknowledged(void **state)
{
	struct smtpd_policy p;
	struct buf err = BUF_INIT;

	(void)state;
	test_capture();
	assert_int_equal(policy("smtpd_relay_restrictions = permit\nmynetworks = 0.0.0.0/0\n"
				"smtpd_open_relay_acknowledged = yes\n", &p, &err), 0);
	assert_true(test_warned("main.cf:2: mynetworks covers the Internet and makes this host an open relay"));
	assert_true(test_warned("the restriction lists make this host an open relay (smtpd_relay_restrictions accepts it at \"permit\")"));
	buf_free(&err);
}

/* A daemon_directory with the stage programs the check looks for. */
static char stage_dir[] = "/tmp/moat-test-stages-XXXXXX";

static int stage_dir_setup(void **state)
{
	static const char *const progs[] = { "moat-screen", "moat-smtpd", "moat-qmgr", NULL };
	char path[128];

	(void)state;
	if (mkdtemp(stage_dir) == NULL)
		return -1;
	for (int i = 0; progs[i]; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", stage_dir, progs[i]);
		if ((fd = open(path, O_CREAT | O_WRONLY, 0755)) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

static int stage_dir_teardown(void **state)
{
	static const char *const progs[] = { "moat-screen", "moat-smtpd", "moat-qmgr", NULL };
	char path[128];

	(void)state;
	for (int i = 0; progs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", stage_dir, progs[i]);
		(void)unlink(path);
	}
	return rmdir(stage_dir);
}

/* check - stagecf_check of main.cf (plus our daemon_directory, last) and master.cf texts; err set. */
static int check(const char *maincf, const char *mastercf, struct buf *err)
{
	struct buf text = BUF_INIT;
	struct conf *c;
	struct master_cf *m;
	int r;

	(void)buf_printf(&text, "%s\ndaemon_directory = %s\n", maincf, stage_dir);
	c = test_load(buf_str(&text), err);
	buf_free(&text);
	assert_non_null(c);
	m = master_load_text(mastercf, strlen(mastercf), "master.cf", c, err);
	if (!m)
		fail_msg("master.cf does not load: %s", buf_str(err));
	r = stagecf_check(c, m, err);
	master_free(m);
	conf_free(c);
	return r;
}

static void test_check_services(void **state)
{
	struct buf err = BUF_INIT;
	const char *master = "smtp inet n - y - - smtpd\n"
			     "2525 inet n - y - - smtpd -o smtpd_relay_restrictions=permit\n";

	(void)state;
	test_capture();
	assert_int_equal(check("", "smtp inet n - y - - smtpd\nqmgr unix n - y - 1 qmgr\n", &err), 0);
	assert_int_equal(check("", master, &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:2: parameter smtpd_relay_restrictions: a client outside mynetworks"));
	/* the same override acknowledged in main.cf */
	assert_int_equal(check("smtpd_open_relay_acknowledged = yes\n", master, &err), 0);
	/* only the stage that reads a parameter checks it */
	assert_int_equal(check("default_transport = not a transport\n", "smtp inet n - y - - smtpd\n", &err), 0);
	assert_int_equal(check("default_transport = not a transport\n",
			       "smtp inet n - y - - smtpd\nqmgr unix n - y - 1 qmgr\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "main.cf:1: parameter default_transport: not a transport: not a transport name"));
	assert_int_equal(check("", "qmgr unix n - y - 1 qmgr -o relay_transport=x:y:z/\n"
			       "q2 unix n - y - 1 qmgr -o relay_transport=a!b\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:2: parameter relay_transport"));
	/* what the broker would refuse in master.cf: refused here, before a reload takes it */
	assert_int_equal(check("", "bounce unix n - y - 1 bounce\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:1: service bounce: "));
	assert_non_null(strstr(buf_str(&err), "/moat-bounce: No such file or directory"));
	assert_int_equal(check("", "s unix n - y - 1 screen\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:1: service s: unknown stage program \"screen\""));
	assert_int_equal(check("", "q unix n - y - 1 qmgr x\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:1: service q: unexpected argument \"x\""));
	assert_int_equal(check("", "smtp unix n - y - - smtpd\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:1: service smtp: smtpd needs an inet service"));
	assert_int_equal(check("", "25 inet n - y - - qmgr\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "master.cf:1: inet service 25 runs qmgr, which serves no client"));
	/* screen's own reading: its exception list takes addresses and networks only */
	assert_int_equal(check("smtpd_client_event_limit_exceptions = example.com\n",
			       "smtp inet n - y - - smtpd\n", &err), -1);
	assert_non_null(strstr(buf_str(&err), "main.cf:1: parameter smtpd_client_event_limit_exceptions: "));
	buf_free(&err);
}

static void test_check_compatibility_level(void **state)
{
	struct buf err = BUF_INIT;
	const char *master = "smtp inet n - y - - smtpd\n";

	(void)state;
	test_capture();
	assert_int_equal(check("compatibility_level = 3.6\n", master, &err), 0);
	assert_int_equal(check("compatibility_level = 3.7.1\n", master, &err), 0);
	assert_false(test_warned("compatibility_level"));
	assert_int_equal(check("compatibility_level = 2\n", master, &err), 0);
	assert_true(test_warned("main.cf:1: compatibility_level = 2: moat has the defaults of Postfix level 3.6"));
	assert_int_equal(check("compatibility_level = 3.5.9\n", master, &err), 0);
	assert_true(test_warned("compatibility_level = 3.5.9"));
	assert_int_equal(check("compatibility_level = 3.x\n", master, &err), -1);
	assert_non_null(strstr(buf_str(&err), "main.cf:1: parameter compatibility_level: bad level \"3.x\""));
	assert_int_equal(check("compatibility_level = 3.\n", master, &err), -1);
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_policy_errors, test_conf_teardown),
		cmocka_unit_test_teardown(test_policy_defaults_and_values, test_conf_teardown),
		cmocka_unit_test_teardown(test_policy_open_relay_acknowledged, test_conf_teardown),
		cmocka_unit_test_teardown(test_check_services, test_conf_teardown),
		cmocka_unit_test_teardown(test_check_compatibility_level, test_conf_teardown),
	};

	return cmocka_run_group_tests(tests, stage_dir_setup, stage_dir_teardown);
}
