/*
 * map_regexp.c - regexp: tables (regexp_table(5)) with POSIX regcomp.
 *
 * Flags as Postfix: i (case-insensitive, on by default), x (extended
 * syntax, on by default), m (newline-sensitive, off); each letter toggles.
 * XXX glibc's regexec has no match limit: a table that must face hostile
 * subjects with back-references should be a pcre: table, which has one.
 */
#include <regex.h>
#include <stdint.h>
#include <string.h>

#include "lib/xmem.h"
#include "maps/map_pattern.h"

struct map_regexp {
	regex_t re;
	regmatch_t *pm;
	size_t npm;
};

static int map_regexp_options(const char *flags, int *cflags, struct buf *err)
{
	*cflags = REG_ICASE | REG_EXTENDED;
	for (const char *f = flags; *f; f++) {
		switch (*f) {
		case 'i': *cflags ^= REG_ICASE; break;
		case 'x': *cflags ^= REG_EXTENDED; break;
		case 'm': *cflags ^= REG_NEWLINE; break;
		default:
			buf_printf(err, "unknown regexp option \"%c\"", *f);
			return -1;
		}
	}
	return 0;
}

static void *map_regexp_compile(const char *re, const char *flags, size_t *ngroups,
				struct buf *err)
{
	struct map_regexp *p;
	char msg[256];
	int cflags, r;

	if (map_regexp_options(flags, &cflags, err) < 0)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	if ((r = regcomp(&p->re, re, cflags)) != 0) {
		regerror(r, &p->re, msg, sizeof(msg));
		buf_printf(err, "%s", msg);
		xfree(p);
		return NULL;
	}
	p->npm = p->re.re_nsub + 1;
	p->pm = xcalloc(p->npm, sizeof(*p->pm));
	*ngroups = p->re.re_nsub;
	return p;
}

static int map_regexp_match(void *re, const char *key, size_t *ov, size_t nov, struct buf *err)
{
	struct map_regexp *p = re;
	char msg[256];
	int r = regexec(&p->re, key, p->npm, p->pm, 0);

	if (r == REG_NOMATCH)
		return 0;
	if (r != 0) {
		regerror(r, &p->re, msg, sizeof(msg));
		buf_printf(err, "regexec: %s", msg);
		return -1;
	}
	for (size_t i = 0; i < nov; i++) {
		int set = i < p->npm && p->pm[i].rm_so >= 0;

		ov[2 * i] = set ? (size_t)p->pm[i].rm_so : SIZE_MAX;
		ov[2 * i + 1] = set ? (size_t)p->pm[i].rm_eo : SIZE_MAX;
	}
	return 1;
}

static void map_regexp_free(void *re)
{
	struct map_regexp *p = re;

	regfree(&p->re);
	xfree(p->pm);
	xfree(p);
}

static const struct map_re_engine map_regexp_engine = {
	"regexp", map_regexp_compile, map_regexp_match, map_regexp_free, NULL, 1,
};

static int map_regexp_open(struct map *m, const struct buf *text, struct map_fds *fds,
			   struct buf *err)
{
	(void)fds;
	return map_pattern_open(m, text, &map_regexp_engine, err);
}

const struct map_ops map_ops_regexp = {
	"regexp", MAP_SRC_TEXT, 1, 0, map_regexp_open, map_pattern_lookup, map_pattern_close,
	map_pattern_each,
};
