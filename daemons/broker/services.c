/*
 * services.c - turn master.cf into the broker's service list.
 *
 * A service names a stage program (its command column); the broker runs only
 * programs that exist as <daemon_directory>/moat-<stage> and have a sandbox
 * policy, so master.cf can never make the root broker exec something else.
 * Every service has a finite maxproc: 0, which Postfix reads as "no limit",
 * means default_process_limit here. Each line was checked by stagecf_check
 * first (a known stage program that exists, no arguments, inet exactly for
 * a SCREENED stage), at start-up and at every reload.
 *
 * An inet service ("2525 inet n - y - 20 smtpd") becomes two services of
 * the same name: the screen stage, one process that holds the listeners
 * (maxproc 1), and the smtpd pool behind it, with no listener and the
 * line's maxproc; both get the line's -o overrides. smtpd then gets
 * connections only from its screen, over channels screen asks for.
 */
#include <string.h>
#include <unistd.h>

#include "daemons/broker/broker.h"
#include "lib/buf.h"
#include "lib/msg.h"
#include "lib/xmem.h"
#include "sandbox/sandbox.h"

static char **services_copy_strv(char **v)
{
	size_t n = 0;
	char **out;

	while (v && v[n])
		n++;
	out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* services_take_listeners - on reload, keep the sockets of a service that stays. */
static int services_take_listeners(struct service *svc, struct service *old)
{
	for (; old; old = old->next) {
		if (strcmp(old->name, svc->name) != 0 || old->nlisten == 0)
			continue;
		svc->listen_fds = old->listen_fds;
		svc->nlisten = old->nlisten;
		old->listen_fds = NULL;
		old->nlisten = 0;
		return 0;
	}
	return -1;
}

/* services_new - a service of master.cf line ms running stage (moat-<stage> must exist). */
static struct service *services_new(struct broker *b, const struct master_service *ms,
				    const char *stage, int maxproc)
{
	const struct stagedef *def = stagedef_lookup(stage);
	struct service *svc;

	if (def == NULL || sandbox_policy_lookup(stage) == NULL)	/* stagecf_check refused it */
		msg_panic("%s: service %s: unknown stage program \"%s\"", ms->where, ms->name, stage);
	svc = xcalloc(1, sizeof(*svc));
	svc->name = xstrdup(ms->name);
	svc->stage = xstrdup(stage);
	svc->def = def;
	svc->overrides = services_copy_strv(ms->overrides);
	/* maxproc 0 ("no limit" in Postfix) is default_process_limit: never unbounded */
	svc->maxproc = maxproc > 0 ? maxproc : (int)conf_int(b->conf, "default_process_limit");
	broker_service_limits(svc, event_now_ms());
	return svc;
}

/*
 * services_one - the service(s) of one master.cf line. An inet line runs a
 * SCREENED stage (smtpd) behind the LISTENS stage (screen): two services of
 * the same name, the screen holding the listeners, with maxproc 1.
 */
static struct service *services_one(struct broker *b, const struct master_service *ms,
				    struct service *old)
{
	struct service *svc;

	if (strcmp(ms->type, "inet") != 0)
		return services_new(b, ms, ms->command, ms->maxproc);
	svc = services_new(b, ms, stagedef_listener()->name, 1);
	svc->next = services_new(b, ms, ms->command, ms->maxproc);
	if (services_take_listeners(svc, old) < 0 && broker_listen_service(b, svc, ms) < 0) {
		if (old == NULL)
			msg_fatal("%s: service %s: nothing to listen on", ms->where, ms->name);
		/* on reload a new service that cannot bind must not stop the others */
		msg_error("%s: service %s: nothing to listen on; not running it", ms->where, ms->name);
		broker_services_free(svc);
		return NULL;
	}
	return svc;
}

/* broker_services_build - one struct service per master.cf line not disabled;
 * listeners of services in old with the same name move over instead of
 * binding again. */
struct service *broker_services_build(struct broker *b, const struct master_cf *m,
				      struct service *old)
{
	struct service *head = NULL, **tail = &head;

	for (size_t i = 0; i < m->nsvc; i++) {
		if (master_service_disabled(b->conf, &m->svc[i])) {
			msg_info("%s: service %s/%s disabled by master_service_disable", m->svc[i].where,
				 m->svc[i].name, m->svc[i].type);
			continue;
		}
		*tail = services_one(b, &m->svc[i], old);
		while (*tail)
			tail = &(*tail)->next;
	}
	return head;
}

static void services_free_one(struct service *s)
{
	for (int i = 0; i < s->nlisten; i++)
		close(s->listen_fds[i]);
	for (char **o = s->overrides; *o; o++)
		xfree(*o);
	xfree(s->overrides);
	xfree(s->listen_fds);
	xfree(s->name);
	xfree(s->stage);
	xfree(s);
}

/* broker_services_free - drop a list; services still used by a process wait. */
void broker_services_free(struct service *list)
{
	while (list) {
		struct service *next = list->next;

		list->dead = 1;
		list->next = NULL;
		for (int i = 0; i < list->nlisten; i++)
			close(list->listen_fds[i]);
		list->nlisten = 0;
		if (list->refs == 0)
			services_free_one(list);
		list = next;
	}
}

/* broker_service_release - a process of svc is gone. */
void broker_service_release(struct service *svc)
{
	if (--svc->refs == 0 && svc->dead)
		services_free_one(svc);
}
