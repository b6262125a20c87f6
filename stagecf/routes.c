/*
 * routes.c - qmgr's routing parameters (see routes.h).
 *
 * mail/resolve.c knows nothing of main.cf; its reasons start with the
 * parameter's name, which is all this file needs to put the file and line
 * in front.
 */
#include <string.h>

#include "stagecf/routes.h"
#include "stagecf/stagecf.h"

int routes_load(struct resolve *r, const struct conf *c, struct buf *err)
{
	static const char *const names[] = {
		"mydestination", "relay_domains", "default_transport", "relay_transport",
		"virtual_alias_domains", NULL,
	};
	struct resolve_params rp = {
		conf_list(c, "mydestination"), conf_list(c, "relay_domains"),
		conf_str(c, "relayhost"), conf_str(c, "default_transport"),
		conf_str(c, "relay_transport"), conf_list(c, "transport_maps"),
		conf_list(c, "sender_dependent_relayhost_maps"),
		conf_str(c, "empty_address_relayhost_maps_lookup_key"),
		conf_list(c, "virtual_alias_domains"), conf_list(c, "relocated_maps"),
	};
	struct buf why = BUF_INIT;

	if (resolve_init(r, &rp, &why) == 0) {
		buf_free(&why);
		return 0;
	}
	buf_reset(err);
	for (size_t i = 0; names[i]; i++) {
		size_t n = strlen(names[i]);

		if (strncmp(buf_str(&why), names[i], n) == 0 && why.data[n] == ' ') {
			stagecf_fail(err, c, names[i], "%s", buf_str(&why) + n + 3);
			break;
		}
	}
	if (err->len == 0)
		buf_printf(err, "%s: %s", conf_filename(c), buf_str(&why));
	buf_free(&why);
	return -1;
}
