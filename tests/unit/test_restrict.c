/*
 * test_restrict.c - unit tests for mail/restrict.c: restriction names, list
 * parsing, and the open-relay analysis smtpd and moatd refuse to start on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/restrict.h"

/* parse - "a, b c" into l as param (with the classes of cls); the parse result. */
static int parse_cls(struct restrict_list *l, const char *param, const char *text,
		     const struct restrict_classes *cls, struct buf *why)
{
	buf_reset(why);
	return restrict_parse_text(l, param, text, cls, why);
}

static int parse(struct restrict_list *l, const char *param, const char *text, struct buf *why)
{
	return parse_cls(l, param, text, NULL, why);
}

static void test_restrict_parse(void **state)
{
	struct restrict_list l;
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(parse(&l, "smtpd_relay_restrictions",
			       "permit_mynetworks permit_sasl_authenticated reject_unauth_destination", &why), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[2].id, RESTRICT_REJECT_UNAUTH_DEST);
	assert_string_equal(restrict_name(l.v[0].id), "permit_mynetworks");
	restrict_free(&l);
	for (int r = 0; r < RESTRICT_CLASS; r++) {	/* every name parses to itself */
		char text[128];

		snprintf(text, sizeof(text), "%s%s", restrict_name((enum restrict_id)r),
			 restrict_takes_arg((enum restrict_id)r)
			 ? (r == RESTRICT_CHECK_POLICY ? " inet:127.0.0.1:9"
			    : restrict_access((enum restrict_id)r, NULL, NULL)
			    ? " hash:/etc/moat/access" : " list.example") : "");
		assert_int_equal(parse(&l, "p", text, &why), 0);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.v[0].id, r);
		restrict_free(&l);
	}
	assert_int_equal(parse(&l, "p", "permit_mynetworks, reject_bogus", &why), -1);
	assert_string_equal(buf_str(&why), "unknown or unsupported restriction \"reject_bogus\"");
	assert_int_equal(l.n, 0);
	assert_int_equal(parse(&l, "p", "check_sender_access hash:/x", &why), 0);
	assert_int_equal(l.v[0].id, RESTRICT_CHECK_SENDER_ACCESS);
	assert_string_equal(l.v[0].arg, "hash:/x");
	restrict_free(&l);
	assert_int_equal(parse(&l, "p", "check_sender_access", &why), -1);
	assert_int_equal(parse(&l, "p", "check_ccert_access hash:/x", &why), -1);
	assert_non_null(strstr(buf_str(&why), "no TLS yet"));
	buf_reset(&why);
	assert_int_equal(parse(&l, "p", "check_reverse_client_hostname_mx_access btree:/x", &why), 0);
	assert_int_equal(l.v[0].id, RESTRICT_CHECK_REVERSE_MX_ACCESS);
	restrict_free(&l);
	assert_int_equal(parse(&l, "p", "reject_unlisted_recipient check_recipient_maps", &why), 0);
	assert_int_equal(l.v[0].id, RESTRICT_REJECT_UNLISTED_RCPT);
	assert_int_equal(l.v[1].id, RESTRICT_REJECT_UNLISTED_RCPT);	/* the old name */
	restrict_free(&l);
	assert_int_equal(parse(&l, "p", "permit_mx_backup", &why), -1);
	assert_non_null(strstr(buf_str(&why), "MX-backup"));
	buf_reset(&why);
	assert_int_equal(parse(&l, "p", "hash:/etc/access", &why), -1);
	assert_non_null(strstr(buf_str(&why), "lookup tables"));
	assert_int_equal(parse(&l, "p", "Permit REJECT", &why), 0);	/* strcasecmp, as Postfix */
	assert_int_equal(l.v[1].id, RESTRICT_REJECT);
	restrict_free(&l);
	assert_int_equal(parse(&l, "p", "", &why), 0);
	assert_int_equal(l.n, 0);
	restrict_free(&l);
	buf_free(&why);
}

/* Each access restriction: whose name it looks up, and through which records. */
static void test_restrict_access_kinds(void **state)
{
	static const struct { const char *name; enum restrict_subject j; enum restrict_server v; } t[] = {
		{ "check_client_access", RS_CLIENT, RS_SELF },
		{ "check_reverse_client_hostname_access", RS_REVERSE, RS_SELF },
		{ "check_client_a_access", RS_CLIENT, RS_A },
		{ "check_client_ns_access", RS_CLIENT, RS_NS },
		{ "check_reverse_client_hostname_a_access", RS_REVERSE, RS_A },
		{ "check_helo_mx_access", RS_HELO, RS_MX },
		{ "check_sender_a_access", RS_SENDER, RS_A },
		{ "check_sender_ns_access", RS_SENDER, RS_NS },
		{ "check_recipient_access", RS_RCPT, RS_SELF },
		{ "check_recipient_mx_access", RS_RCPT, RS_MX },
	};
	struct restrict_list l;
	struct buf why = BUF_INIT, text = BUF_INIT;
	enum restrict_subject j;
	enum restrict_server v;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&text);
		buf_printf(&text, "%s cidr:/x", t[i].name);
		assert_int_equal(parse(&l, "p", buf_str(&text), &why), 0);
		assert_int_equal(restrict_access(l.v[0].id, &j, &v), 1);
		assert_int_equal(j, t[i].j);
		assert_int_equal(v, t[i].v);
		restrict_free(&l);
	}
	assert_int_equal(restrict_access(RESTRICT_CHECK_POLICY, &j, &v), 0);
	assert_int_equal(restrict_access(RESTRICT_REJECT_RBL_CLIENT, NULL, NULL), 0);
	buf_free(&why);
	buf_free(&text);
}

static void test_restrict_args(void **state)
{
	struct restrict_list l;
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(parse(&l, "p", "reject_rbl_client zen.example=127.0.0.[2..11], "
			       "reject_rhsbl_sender dbl.example. check_policy_service unix:/run/p.sock "
			       "check_policy_service inet:[::1]:10023 permit", &why), 0);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.v[0].arg, "zen.example=127.0.0.[2..11]");
	assert_string_equal(l.v[1].arg, "dbl.example.");
	assert_string_equal(l.v[3].arg, "inet:[::1]:10023");
	assert_null(l.v[4].arg);
	restrict_free(&l);
	assert_int_equal(parse(&l, "p", "reject_rbl_client", &why), -1);
	assert_string_equal(buf_str(&why), "restriction \"reject_rbl_client\" needs an argument");
	assert_int_equal(parse(&l, "p", "reject_rbl_client permit", &why), -1);
	assert_int_equal(parse(&l, "p", "reject_rbl_client bad..zone", &why), -1);
	assert_int_equal(parse(&l, "p", "reject_rbl_client z.example=127.0.0.256", &why), -1);
	assert_non_null(strstr(buf_str(&why), "bad reply filter"));
	assert_int_equal(parse(&l, "p", "check_policy_service unix:private/policy", &why), -1);
	assert_non_null(strstr(buf_str(&why), "absolute path"));
	assert_int_equal(parse(&l, "p", "check_policy_service inet:policy.example:10023", &why), -1);
	assert_non_null(strstr(buf_str(&why), "resolves no policy service name"));
	assert_int_equal(parse(&l, "p", "check_policy_service inet:127.0.0.1:0", &why), -1);
	assert_int_equal(parse(&l, "p", "check_policy_service { inet:127.0.0.1:1 }", &why), -1);
	buf_free(&why);
}

static void test_restrict_old_names(void **state)
{
	static const struct { const char *old; enum restrict_id id; } map[] = {
		{ "reject_invalid_hostname", RESTRICT_REJECT_INVALID_HELO },
		{ "reject_non_fqdn_hostname", RESTRICT_REJECT_NON_FQDN_HELO },
		{ "reject_unknown_hostname", RESTRICT_REJECT_UNKNOWN_HELO },
		{ "reject_unknown_client", RESTRICT_REJECT_UNKNOWN_CLIENT },
		{ "check_relay_domains", RESTRICT_CHECK_RELAY_DOMAINS },
	};
	struct restrict_list l;
	struct buf why = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		assert_int_equal(parse(&l, "p", map[i].old, &why), 0);
		assert_int_equal(l.v[0].id, map[i].id);
		restrict_free(&l);
	}
	buf_free(&why);
}

/* The classes of one test: "name=list;name=list". */
static const char *class_value(const char *name, void *ctx)
{
	static char out[256];
	const char *p = ctx;
	size_t n = strlen(name);

	while (p && *p) {
		const char *end = strchr(p, ';');

		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			size_t len = (end ? (size_t)(end - p) : strlen(p)) - n - 1;

			memcpy(out, p + n + 1, len);
			out[len] = 0;
			return out;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static int classes(struct restrict_classes *c, const char *names, const char *defs,
		   struct buf *why)
{
	struct restrict_list tmp;
	const char *bad = NULL;
	char *items[16];
	int r;

	assert_int_equal(parse(&tmp, "x", names, why), -1 + (names[0] == 0));	/* not restrictions */
	restrict_free(&tmp);
	{
		char *copy = strdup(names), *save = NULL;
		size_t n = 0;

		for (char *t = strtok_r(copy, ", ", &save); t && n < 15; t = strtok_r(NULL, ", ", &save))
			items[n++] = t;
		items[n] = NULL;
		buf_reset(why);
		r = restrict_classes_init(c, items, class_value, (void *)defs, &bad, why);
		free(copy);
	}
	return r;
}

static void test_restrict_classes(void **state)
{
	struct restrict_classes c;
	struct restrict_list l;
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(classes(&c, "spamlover spamhater",
				 "spamhater=reject_rbl_client rbl.example, spamlover;"
				 "spamlover=permit", &why), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.lists[1].v[1].id, RESTRICT_CLASS);
	assert_int_equal(c.lists[1].v[1].cls, 0);
	assert_int_equal(parse_cls(&l, "p", "permit_mynetworks SpamHater", &c, &why), 0);
	assert_int_equal(l.v[1].id, RESTRICT_CLASS);
	assert_string_equal(restrict_item_name(&l.v[1], &c), "spamhater");
	restrict_free(&l);
	assert_int_equal(parse(&l, "p", "spamhater", &why), -1);	/* without the classes */
	restrict_classes_free(&c);
	/* refused: a loop, a missing definition, a restriction's name, a bad list */
	assert_int_equal(classes(&c, "a b", "a=b;b=permit_mynetworks a", &why), -1);
	assert_non_null(strstr(buf_str(&why), "uses itself"));
	assert_int_equal(classes(&c, "a", "a=a", &why), -1);
	assert_int_equal(classes(&c, "a", "", &why), -1);
	assert_non_null(strstr(buf_str(&why), "needs a definition"));
	assert_int_equal(classes(&c, "a", "a=reject_bogus", &why), -1);
	assert_non_null(strstr(buf_str(&why), "reject_bogus"));
	buf_reset(&why);
	{
		char *items[] = { "permit", NULL };
		const char *bad = NULL;

		assert_int_equal(restrict_classes_init(&c, items, class_value, "permit=reject",
						       &bad, &why), -1);
		assert_non_null(strstr(buf_str(&why), "has the name of a restriction"));
		assert_string_equal(bad, "permit");
	}
	buf_free(&why);
}

/* open - restrict_open_relay of relay and recipient lists (and an optional
 * client list); why in *out. */
static int open_relay(const char *relay, const char *rcpt, const char *client, struct buf *out)
{
	struct restrict_list l[3];
	struct restrict_classes c;
	struct buf why = BUF_INIT;
	int r;

	assert_int_equal(classes(&c, "open closed", "open=permit;closed=reject", &why), 0);
	assert_int_equal(parse_cls(&l[0], "smtpd_relay_restrictions", relay, &c, &why), 0);
	assert_int_equal(parse_cls(&l[1], "smtpd_recipient_restrictions", rcpt, &c, &why), 0);
	assert_int_equal(parse_cls(&l[2], "smtpd_client_restrictions", client, &c, &why), 0);
	buf_reset(out);
	r = restrict_open_relay(l, 3, &c, out);
	for (int i = 0; i < 3; i++)
		restrict_free(&l[i]);
	restrict_classes_free(&c);
	buf_free(&why);
	return r;
}

static void test_restrict_open_relay(void **state)
{
	struct buf why = BUF_INIT;

	(void)state;
	/* closed: moat's and Postfix's defaults, classic Postfix, reject-all */
	assert_false(open_relay("permit_mynetworks permit_sasl_authenticated reject_unauth_destination", "", "", &why));
	assert_false(open_relay("permit_mynetworks permit_sasl_authenticated defer_unauth_destination", "", "", &why));
	assert_false(open_relay("", "permit_mynetworks reject_unauth_destination permit", "", &why));
	assert_false(open_relay("", "", "permit_mynetworks reject", &why));
	assert_false(open_relay("permit", "reject_unauth_destination", "", &why));	/* both lists must pass */
	assert_false(open_relay("reject_non_fqdn_helo_hostname reject_unauth_destination", "", "", &why));
	/* open */
	assert_true(open_relay("permit", "", "", &why));
	assert_string_equal(buf_str(&why), "smtpd_relay_restrictions accepts it at \"permit\"");
	assert_true(open_relay("", "", "", &why));
	assert_string_equal(buf_str(&why), "no restriction list rejects it");
	assert_true(open_relay("permit_mynetworks permit reject_unauth_destination", "permit", "", &why));
	assert_string_equal(buf_str(&why), "smtpd_relay_restrictions accepts it at \"permit\"; "
			    "smtpd_recipient_restrictions accepts it at \"permit\"");
	/* what the client chooses never closes it */
	assert_true(open_relay("reject_non_fqdn_sender reject_invalid_helo_hostname "
			       "reject_unknown_client_hostname reject_unauth_pipelining "
			       "permit_auth_destination", "", "", &why));
	/* a warned reject is no reject */
	assert_true(open_relay("warn_if_reject reject_unauth_destination", "", "", &why));
	assert_false(open_relay("warn_if_reject reject_unauth_destination reject_unauth_destination", "", "", &why));
	/* classes count as their lists; a policy service may say OK; a DNS
	 * whitelist never overrides relay control; check_relay_domains closes */
	assert_true(open_relay("open reject_unauth_destination", "", "", &why));
	assert_string_equal(buf_str(&why), "smtpd_relay_restrictions accepts it at \"open\"");
	assert_false(open_relay("closed permit", "", "", &why));
	assert_true(open_relay("check_policy_service inet:127.0.0.1:1 reject_unauth_destination", "", "", &why));
	assert_false(open_relay("permit_dnswl_client wl.example reject_unauth_destination", "", "", &why));
	assert_false(open_relay("check_relay_domains permit", "", "", &why));
	buf_free(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restrict_parse),
		cmocka_unit_test(test_restrict_args),
		cmocka_unit_test(test_restrict_access_kinds),
		cmocka_unit_test(test_restrict_old_names),
		cmocka_unit_test(test_restrict_classes),
		cmocka_unit_test(test_restrict_open_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
