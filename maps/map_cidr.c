/*
 * map_cidr.c - cidr: tables (cidr_table(5)): "network result",
 * "!network result", "if network" .. "endif"; the first rule that matches
 * the address in the key wins. Networks are written as mynetworks entries
 * are (mail/cidr.h): 192.0.2.0/24, [2001:db8::]/32, 2001:db8::1; host bits
 * below the prefix are an error, as in Postfix. A key that is not an
 * address matches no rule (a "!" rule included), as in Postfix.
 */
#include <string.h>

#include "lib/xmem.h"
#include "mail/cidr.h"
#include "maps/map_pattern.h"

static int map_cidr_split(char *p, int *negate, char **re, char **flags, char **rest,
			  struct buf *err)
{
	(void)err;
	*negate = (*p == '!');
	*re = p + *negate;
	p = *re + strcspn(*re, " \t");
	if (*p)
		*p++ = 0;
	*flags = (char *)"";
	*rest = p + strspn(p, " \t");
	return 0;
}

static void *map_cidr_compile(const char *net, const char *flags, size_t *ngroups,
			      struct buf *err)
{
	struct cidr_list *l = xmalloc(sizeof(*l));

	(void)flags;
	*ngroups = 0;
	cidr_list_init(l);
	if (*net == '!' || cidr_list_add(l, net, err) < 0) {
		if (*net == '!')
			buf_printf(err, "bad network \"%s\"", net);
		cidr_list_free(l);
		xfree(l);
		return NULL;
	}
	return l;
}

static int map_cidr_match(void *net, const char *key, size_t *ov, size_t nov, struct buf *err)
{
	unsigned char addr[16];
	int family;

	(void)ov;
	(void)nov;
	(void)err;
	if (cidr_parse_addr(key, &family, addr) < 0)
		return MAP_RE_NEVER;
	return cidr_list_match(net, family, addr);
}

static void map_cidr_free(void *net)
{
	cidr_list_free(net);
	xfree(net);
}

static const struct map_re_engine map_cidr_engine = {
	"cidr", map_cidr_compile, map_cidr_match, map_cidr_free, map_cidr_split, 0,
};

static int map_cidr_open(struct map *m, const struct buf *text, struct map_fds *fds,
			 struct buf *err)
{
	(void)fds;
	return map_pattern_open(m, text, &map_cidr_engine, err);
}

const struct map_ops map_ops_cidr = {
	"cidr", MAP_SRC_TEXT, 1, 0, map_cidr_open, map_pattern_lookup, map_pattern_close,
	map_pattern_each,
};
