/*
 * map_pcre.c - pcre: tables (pcre_table(5)) with PCRE2.
 *
 * No JIT, ever: no stage may map executable memory, so patterns are never
 * JIT-compiled and every match asks for the interpreter (PCRE2_NO_JIT).
 * Every match runs under a match limit, a depth limit and a heap limit
 * (map.h): a pattern that backtracks catastrophically on a hostile 1 MB
 * header stops there and the lookup fails (MAP_FAIL, logged with file and
 * line) instead of holding the stage. Postfix logs the same limit and then
 * treats the rule as not matching; moat fails the lookup, so the caller
 * defers instead of letting the message past a check it did not finish.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <string.h>

#include "lib/msg.h"
#include "lib/xmem.h"
#include "maps/map_pattern.h"

struct map_pcre {
	pcre2_code *code;
	pcre2_match_data *md;
};

static pcre2_match_context *map_pcre_mctx;

/* map_pcre_options - pcre_table(5) flags: i and s on by default, each letter toggles. */
static int map_pcre_options(const char *flags, uint32_t *opt, struct buf *err)
{
	*opt = PCRE2_CASELESS | PCRE2_DOTALL;
	for (const char *f = flags; *f; f++) {
		switch (*f) {
		case 'i': *opt ^= PCRE2_CASELESS; break;
		case 'm': *opt ^= PCRE2_MULTILINE; break;
		case 's': *opt ^= PCRE2_DOTALL; break;
		case 'x': *opt ^= PCRE2_EXTENDED; break;
		case 'A': *opt ^= PCRE2_ANCHORED; break;
		case 'E': *opt ^= PCRE2_DOLLAR_ENDONLY; break;
		case 'U': *opt ^= PCRE2_UNGREEDY; break;
		case 'X': break;	/* PCRE1's EXTRA; Postfix with PCRE2 ignores it too */
		default:
			buf_printf(err, "unknown regexp option \"%c\"", *f);
			return -1;
		}
	}
	return 0;
}

static void *map_pcre_compile(const char *re, const char *flags, size_t *ngroups,
			      struct buf *err)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	struct map_pcre *p;
	uint32_t opt, count;
	int code;

	if (map_pcre_options(flags, &opt, err) < 0)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opt, &code, &off, NULL);
	if (p->code == NULL) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		buf_printf(err, "error in regex at offset %zu: %s", (size_t)off, (char *)msg);
		xfree(p);
		return NULL;
	}
	if (pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &count) != 0 ||
	    (p->md = pcre2_match_data_create_from_pattern(p->code, NULL)) == NULL)
		msg_fatal("pcre2: out of memory");
	*ngroups = count;
	return p;
}

static pcre2_match_context *map_pcre_context(void)
{
	if (map_pcre_mctx == NULL) {
		if ((map_pcre_mctx = pcre2_match_context_create(NULL)) == NULL)
			msg_fatal("pcre2: out of memory");
		pcre2_set_match_limit(map_pcre_mctx, MAP_PCRE_MATCH_LIMIT);
		pcre2_set_depth_limit(map_pcre_mctx, MAP_PCRE_DEPTH_LIMIT);
		pcre2_set_heap_limit(map_pcre_mctx, MAP_PCRE_HEAP_LIMIT_KB);
	}
	return map_pcre_mctx;
}

static int map_pcre_match(void *re, const char *key, size_t *ov, size_t nov, struct buf *err)
{
	struct map_pcre *p = re;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE *v;
	uint32_t n;
	int rc;

	rc = pcre2_match(p->code, (PCRE2_SPTR)key, strlen(key), 0, PCRE2_NO_JIT, p->md,
			 map_pcre_context());
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		pcre2_get_error_message(rc, msg, sizeof(msg));
		buf_printf(err, "matching error: %s", (char *)msg);
		return -1;
	}
	v = pcre2_get_ovector_pointer(p->md);
	n = pcre2_get_ovector_count(p->md);
	for (size_t i = 0; i < nov; i++) {
		int set = i < n && v[2 * i] != PCRE2_UNSET;

		ov[2 * i] = set ? v[2 * i] : SIZE_MAX;
		ov[2 * i + 1] = set ? v[2 * i + 1] : SIZE_MAX;
	}
	return 1;
}

static void map_pcre_free(void *re)
{
	struct map_pcre *p = re;

	pcre2_match_data_free(p->md);
	pcre2_code_free(p->code);
	xfree(p);
}

static const struct map_re_engine map_pcre_engine = {
	"pcre", map_pcre_compile, map_pcre_match, map_pcre_free, NULL, 1,
};

static int map_pcre_open(struct map *m, const struct buf *text, struct map_fds *fds,
			 struct buf *err)
{
	(void)fds;
	return map_pattern_open(m, text, &map_pcre_engine, err);
}

const struct map_ops map_ops_pcre = {
	"pcre", MAP_SRC_TEXT, 1, 0, map_pcre_open, map_pattern_lookup, map_pattern_close,
	map_pattern_each,
};
