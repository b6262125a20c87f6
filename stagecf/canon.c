/*
 * canon.c - cleanup's rewriting parameters (see canon.h).
 *
 * Postfix's defaults: canonical_classes all four classes,
 * sender_canonical_classes envelope_sender and header_sender,
 * recipient_canonical_classes envelope_recipient and header_recipient,
 * masquerade_classes envelope_sender, header_sender and header_recipient,
 * propagate_unmatched_extensions canonical and virtual. The class words
 * themselves are checked by the parameter table (conf/params.c choices).
 */
#include <string.h>

#include "ipc/lookupproto.h"
#include "lib/xmem.h"
#include "mail/addr.h"
#include "stagecf/canon.h"
#include "stagecf/stagecf.h"

static const char *const canon_map_param[CANON_NMAPS] = {
	[CANON_SENDER] = CONF_NAME("sender_canonical_maps"),
	[CANON_RECIPIENT] = CONF_NAME("recipient_canonical_maps"),
	[CANON_COMMON] = CONF_NAME("canonical_maps"),
};

static const char *const canon_class_param[CANON_NMAPS] = {
	[CANON_SENDER] = CONF_NAME("sender_canonical_classes"),
	[CANON_RECIPIENT] = CONF_NAME("recipient_canonical_classes"),
	[CANON_COMMON] = CONF_NAME("canonical_classes"),
};

char *canon_tables_join(char *const *items)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; items && items[i]; i++) {
		if (i > 0)
			buf_putc(&b, LOOKUP_TABLE_SEP);
		buf_append_str(&b, items[i]);
	}
	return b.len ? buf_steal(&b) : NULL;
}

/* canon_classes - a class list into CANON_* bits. */
static unsigned canon_classes(char *const *items)
{
	static const struct { const char *name; unsigned bit; } cls[] = {
		{ "envelope_sender", CANON_ENV_FROM }, { "envelope_recipient", CANON_ENV_RCPT },
		{ "header_sender", CANON_HDR_FROM }, { "header_recipient", CANON_HDR_RCPT },
	};
	unsigned bits = 0;

	for (size_t i = 0; items && items[i]; i++)
		for (size_t j = 0; j < sizeof(cls) / sizeof(cls[0]); j++)
			if (strcmp(items[i], cls[j].name) == 0)
				bits |= cls[j].bit;
	return bits;
}

/* canon_words - a copy of a list in lower case, or NULL if it is empty. */
static char **canon_words(char *const *items)
{
	size_t n = 0;
	char **v;

	while (items && items[n])
		n++;
	if (n == 0)
		return NULL;
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i] = xstrdup(items[i]);
		for (char *p = v[i]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}
	return v;
}

static void canon_words_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		xfree(v[i]);
	xfree(v);
}

/* canon_masq_check - masquerade_domains are domain names; exceptions plain names. */
static int canon_masq_check(const struct canon_params *p, const struct conf *c, struct buf *err)
{
	for (size_t i = 0; p->masq_domains && p->masq_domains[i]; i++) {
		const char *d = p->masq_domains[i] + strspn(p->masq_domains[i], "!");

		if (!addr_domain_valid(d, strlen(d)))
			return stagecf_fail(err, c, "masquerade_domains", "\"%.100s\" is not a domain "
					    "name", p->masq_domains[i]);
	}
	for (size_t i = 0; p->masq_exceptions && p->masq_exceptions[i]; i++) {
		const char *e = p->masq_exceptions[i];

		if (strpbrk(e, ":/") != NULL)
			return stagecf_fail(err, c, "masquerade_exceptions", "\"%.100s\": lookup tables "
					    "and files are not supported here (list user names)", e);
	}
	return 0;
}

/* canon_bcc_check - always_bcc is one user@domain, as the queue file will hold it. */
static int canon_bcc_check(const char *bcc, const struct conf *c, struct buf *err)
{
	struct addr_path ap;
	struct buf path = BUF_INIT;
	const char *why = NULL;
	size_t used = 0;
	int r = 0;

	addr_path_init(&ap);
	(void)buf_printf(&path, "<%s>", bcc);
	if (strchr(bcc, '@') == NULL || strpbrk(bcc, "\r\n") != NULL
	    || addr_parse_path(path.data, path.len, ADDR_P_STRICT, &ap, &used, &why) != ADDR_OK
	    || used != path.len)
		r = stagecf_fail(err, c, "always_bcc", "\"%.100s\" is not a user@domain address", bcc);
	addr_path_free(&ap);
	buf_free(&path);
	return r;
}

/* canon_local_domains - mydestination for the "user" key, when a canonical map needs it. */
static int canon_local_domains(struct canon_params *p, const struct conf *c, struct buf *err)
{
	struct buf why = BUF_INIT;
	int r = 0;

	if (domlist_init(&p->mydest, conf_list(c, "mydestination"),
			 domlist_param_in(conf_list(c, "parent_domain_matches_subdomains"),
					  "mydestination"), &why) < 0) {
		r = stagecf_fail(err, c, "mydestination", "%s (canonical(5) needs the local "
				 "domains)", buf_str(&why));
		domlist_init(&p->mydest, NULL, 0, &why);
	}
	buf_free(&why);
	return r;
}

int canon_load(struct canon_params *p, const struct conf *c, struct buf *err)
{
	const char *bcc = conf_str(c, "always_bcc");
	int any = 0;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < CANON_NMAPS; i++) {
		p->maps[i] = canon_tables_join(conf_list(c, canon_map_param[i]));
		p->classes[i] = canon_classes(conf_list(c, canon_class_param[i]));
		any |= p->maps[i] != NULL;
	}
	for (char *const *e = conf_list(c, "propagate_unmatched_extensions"); e && *e; e++)
		p->propagate |= strcmp(*e, "canonical") == 0;
	p->masq_domains = canon_words(conf_list(c, "masquerade_domains"));
	p->masq_exceptions = canon_words(conf_list(c, "masquerade_exceptions"));
	p->masq_classes = canon_classes(conf_list(c, "masquerade_classes"));
	p->myorigin = xstrdup(conf_str(c, "myorigin"));
	p->delim = xstrdup(conf_str(c, "recipient_delimiter"));
	p->always_bcc = *bcc ? xstrdup(bcc) : NULL;
	p->sender_bcc = canon_tables_join(conf_list(c, "sender_bcc_maps"));
	p->recipient_bcc = canon_tables_join(conf_list(c, "recipient_bcc_maps"));
	if ((any ? canon_local_domains(p, c, err) : domlist_init(&p->mydest, NULL, 0, err)) < 0
	    || canon_masq_check(p, c, err) < 0 || (p->always_bcc && canon_bcc_check(bcc, c, err) < 0)) {
		canon_free(p);
		return -1;
	}
	return 0;
}

void canon_free(struct canon_params *p)
{
	for (int i = 0; i < CANON_NMAPS; i++)
		xfree(p->maps[i]);
	canon_words_free(p->masq_domains);
	canon_words_free(p->masq_exceptions);
	domlist_free(&p->mydest);
	xfree(p->myorigin);
	xfree(p->delim);
	xfree(p->always_bcc);
	xfree(p->sender_bcc);
	xfree(p->recipient_bcc);
	memset(p, 0, sizeof(*p));
}

int canon_any_table(const struct canon_params *p)
{
	return p->maps[CANON_SENDER] || p->maps[CANON_RECIPIENT] || p->maps[CANON_COMMON]
	       || p->sender_bcc || p->recipient_bcc;
}
