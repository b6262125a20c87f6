/*
 * screen_conf.c - read the screen's parameters of main.cf (plus the
 * service's -o overrides) once, before confinement.
 *
 * smtpd_timeout is read twice: as configured and as it reads with stress =
 * yes (Postfix's ${stress?{10}:{300}}s), since screen decides per client
 * which applies. mynetworks is computed as smtpd computes it
 * (mail/mynetworks.c), which lists the interfaces: hence before the jail.
 * An exception list entry that is not an address or network is fatal,
 * naming the parameter: a limit is never silently waived for a name.
 *
 * SECURITY: reads only main.cf (trusted) and the kernel's interface list.
 */
#include <string.h>

#include "daemons/screen/screen.h"
#include "lib/msg.h"

/* conf_stress_timeout - smtpd_timeout as it reads with stress = yes. */
static int conf_stress_timeout(const struct stage *st)
{
	struct buf err = BUF_INIT;
	struct conf *sc = conf_stress_copy(st->conf, &err);
	int t;

	if (sc == NULL && err.len > 0)
		msg_fatal("%s", buf_str(&err));
	t = (int)conf_time(sc ? sc : st->conf, "smtpd_timeout");
	conf_free(sc);
	buf_free(&err);
	return t;
}

/* conf_names_mynetworks - the raw text refers to $mynetworks (however bracketed). */
static int conf_names_mynetworks(const char *raw)
{
	return strstr(raw, "$mynetworks") || strstr(raw, "${mynetworks}")
	       || strstr(raw, "$(mynetworks)");
}

static void conf_exceptions(struct screen_conf *cf, const struct stage *st)
{
	static const char param[] = CONF_NAME("smtpd_client_event_limit_exceptions");
	static const char legacy[] = CONF_NAME("smtpd_client_connection_limit_exceptions");
	const char *raw = conf_raw(st->conf, param);
	struct buf err = BUF_INIT;

	if (mynetworks_init(&cf->mynetworks, conf_list(st->conf, "mynetworks"),
			    conf_str(st->conf, "mynetworks_style"), 1, &err) < 0)
		msg_fatal("mynetworks: %s", buf_str(&err));
	cidr_list_init(&cf->exceptions);
	if (mynetworks_parse(&cf->exceptions, conf_list(st->conf, param), &err) < 0)
		msg_fatal("%s: %s", param, buf_str(&err));
	/* computed mynetworks expand to nothing in text: match them directly */
	if (!conf_is_set(st->conf, param) && conf_is_set(st->conf, legacy))
		raw = conf_raw(st->conf, legacy);
	cf->except_mynetworks = cf->mynetworks.computed && conf_names_mynetworks(raw);
	buf_free(&err);
}

void screen_conf_load(struct screen_conf *cf, const struct stage *st)
{
	memset(cf, 0, sizeof(*cf));
	cf->myhostname = conf_str(st->conf, "myhostname");
	cf->banner = conf_str(st->conf, "smtpd_banner");
	cf->timeout = (int)conf_time(st->conf, "smtpd_timeout");
	cf->stress_timeout = conf_stress_timeout(st);
	cf->count_limit = (int)conf_int(st->conf, "smtpd_client_connection_count_limit");
	cf->rate_limit = (int)conf_int(st->conf, "smtpd_client_connection_rate_limit");
	cf->rate_unit = (int)conf_time(st->conf, "anvil_rate_time_unit");
	cf->rates = cf->rate_limit > 0 || conf_int(st->conf, "smtpd_client_message_rate_limit") > 0
		    || conf_int(st->conf, "smtpd_client_recipient_rate_limit") > 0;
	cf->post_queue_limit = (int)conf_int(st->conf, "postscreen_post_queue_limit");
	conf_exceptions(cf, st);
}

/* screen_conf_excepted - the limits do not apply to this client. */
int screen_conf_excepted(const struct screen_conf *cf, const struct netaddr *peer, int fd)
{
	struct netaddr local;

	if (cidr_list_match(&cf->exceptions, peer->family, peer->ip))
		return 1;
	if (!cf->except_mynetworks)
		return 0;
	netaddr_of_fd(&local, fd, 1);
	return mynetworks_match(&cf->mynetworks, peer->family, peer->ip, local.family, local.ip);
}
