/*
 * fuzz_mastercf.c - libFuzzer target for master.cf (conf/mastercf.c and the
 * line reader conf/cfline.c).
 *
 * The input is parsed as master.cf against a configuration loaded once
 * (defaults plus a few settings that -o values may expand). A refusal must
 * name "master.cf:"; an accepted file must hold only what the broker may
 * build names and exec paths from: service names and commands without '/',
 * a known type, no negative numbers, and every -o override a "name=value"
 * that applies cleanly to a copy of the configuration after service_name
 * and process_name, as the stage applies them at its start (a value that
 * passed here and failed there would crash-loop the stage). A crash, a panic, a sanitizer report, a
 * leak or a hang here is a bug.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "lib/xmem.h"
#include "tests/fuzz/fuzz_util.h"

static const char fuzz_main_cf[] =
	"myhostname = mx.example.com\n"
	"mua_client_restrictions = permit_mynetworks, reject\n"
	"relayhost = [smarthost.example.net]:587\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_service_check - what the broker relies on for one parsed service. */
static void fuzz_service_check(const struct conf *c, const struct master_service *sv)
{
	static const char *const types[] = { "inet", "unix", "unix-dgram", "fifo", "pass" };
	struct buf err = BUF_INIT;
	struct conf *dup;
	size_t t = 0;

	if (!sv->name[0] || strchr(sv->name, '/') || !sv->command[0] || strchr(sv->command, '/')
	    || sv->maxproc < 0 || sv->wakeup < 0 || strncmp(sv->where, "master.cf:", 10) != 0)
		abort();
	while (t < sizeof(types) / sizeof(types[0]) && strcmp(types[t], sv->type) != 0)
		t++;
	if (t == sizeof(types) / sizeof(types[0]))
		abort();
	dup = conf_dup(c);
	if (conf_set(dup, "service_name", sv->name, sv->where, &err) < 0
	    || conf_set(dup, "process_name", sv->command, sv->where, &err) < 0)
		abort();
	for (char **o = sv->overrides; o && *o; o++) {
		char *eq = strchr(*o, '=');
		char *name;

		if (eq == NULL || eq == *o)
			abort();
		name = xstrndup(*o, (size_t)(eq - *o));
		if (conf_set(dup, name, eq + 1, sv->where, &err) < 0)
			abort();	/* master_load_text checked it on a copy already */
		xfree(name);
	}
	conf_free(dup);
	buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf *c;
	struct buf err = BUF_INIT;
	struct master_cf *m;

	msg_set_sink(fuzz_quiet, NULL);
	if (c == NULL && (c = conf_load_text(fuzz_main_cf, strlen(fuzz_main_cf), "main.cf", &err)) == NULL)
		abort();
	m = master_load_text((const char *)data, size, "master.cf", c, &err);
	if (m == NULL) {
		if (strncmp(buf_str(&err), "master.cf:", 10) != 0)
			abort();
	} else {
		for (size_t i = 0; i < m->nsvc; i++)
			fuzz_service_check(c, &m->svc[i]);
		master_free(m);
	}
	buf_free(&err);
	return 0;
}
