/*
 * paramindex.c - finding parameters in the table by name, and the nearest
 * known name for a misspelt one ("did you mean ...?").
 *
 * Called by the main.cf and master.cf parsers, the typed accessors and
 * moatconf. The index is built once on first use; the table itself is never
 * modified. Nearest-name search must stay bounded for hostile input: names
 * longer than CONF_NEAR_MAXLEN get no suggestion.
 */
#include <stdlib.h>
#include <string.h>

#include "conf/conf_priv.h"
#include "lib/xmem.h"

#define CONF_NEAR_MAXLEN 128

static size_t *conf_index;	/* conf_params indexes sorted by name */

/* conf_index_cmp - qsort order of two table indexes: by name. */
static int conf_index_cmp(const void *a, const void *b)
{
	return strcmp(conf_params[*(const size_t *)a].name,
		      conf_params[*(const size_t *)b].name);
}

/* conf_index_build - sort the table's indexes once (not thread-safe; moat's
 * processes are single-threaded). */
static void conf_index_build(void)
{
	size_t i;

	if (conf_index)
		return;
	conf_index = xreallocarray(NULL, conf_nparams, sizeof(*conf_index));
	for (i = 0; i < conf_nparams; i++)
		conf_index[i] = i;
	qsort(conf_index, conf_nparams, sizeof(*conf_index), conf_index_cmp);
}

/* conf_param_index - table index of name, or (size_t)-1. */
size_t conf_param_index(const char *name)
{
	size_t lo = 0, hi;

	conf_index_build();
	hi = conf_nparams;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, conf_params[conf_index[mid]].name);

		if (r == 0)
			return conf_index[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return (size_t)-1;
}

/* conf_param_lookup - the definition of name, or NULL if moat does not know it. */
const struct conf_param_def *conf_param_lookup(const char *name)
{
	size_t i = conf_param_index(name);

	return i == (size_t)-1 ? NULL : &conf_params[i];
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* conf_distance - optimal-string-alignment distance (Levenshtein plus swaps
 * of neighbours, so "smptd" is one step from "smtpd"). Strings longer than
 * CONF_NEAR_MAXLEN are not compared: the answer is then limit. */
size_t conf_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *base, *prev2, *prev, *cur, *t;

	if (la > CONF_NEAR_MAXLEN || lb > CONF_NEAR_MAXLEN)
		return limit;
	base = xcalloc(3 * (lb + 1), sizeof(size_t));
	prev2 = base;
	prev = base + lb + 1;
	cur = prev + lb + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
			    && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	xfree(base);
	return d;
}

/* conf_words_missing - if every '_'-separated word of a occurs in b in the
 * same order ("smtpd_sasl_options" in "smtpd_sasl_security_options"), the
 * number of words of b left over; otherwise (size_t)-1. */
static size_t conf_words_missing(const char *a, const char *b)
{
	size_t missing = 0;

	a += strspn(a, "_");
	b += strspn(b, "_");
	while (*b) {
		size_t n = strcspn(a, "_"), m = strcspn(b, "_");

		if (*a && n == m && memcmp(a, b, n) == 0) {
			a += n;
			a += strspn(a, "_");
		} else {
			missing++;
		}
		b += m;
		b += strspn(b, "_");
	}
	return *a ? (size_t)-1 : missing;
}

/* conf_param_score - how far name is from a known name; lower is nearer,
 * (size_t)-1 is too far. An edit distance of up to a third of the name
 * counts (score 2 per edit); so does a name whose words all occur in the
 * known one (words left out: score 2 per missing word plus 1), so that a
 * one-letter typo beats a left-out word, and a left-out word beats a name
 * that merely has a similar length. */
static size_t conf_param_score(const char *name, const char *known)
{
	size_t n = strlen(name);
	size_t limit = n / 3 < 2 ? 2 : n / 3;
	size_t d = conf_distance(name, known, limit + 1), w;
	size_t score = d <= limit ? 2 * d : (size_t)-1;

	if (n < 4 || !strchr(name, '_'))
		return score;
	w = conf_words_missing(name, known);
	if (w != (size_t)-1 && w > 0 && 2 * w + 1 < score)
		score = 2 * w + 1;
	return score;
}

/* conf_param_nearest - the known name nearest to name, or NULL if none is
 * near enough to be a plausible misspelling. */
const char *conf_param_nearest(const char *name)
{
	size_t i, best = (size_t)-1, score;
	const char *found = NULL;

	if (strlen(name) > CONF_NEAR_MAXLEN)
		return NULL;
	for (i = 0; i < conf_nparams; i++) {
		score = conf_param_score(name, conf_params[i].name);
		if (score < best) {
			best = score;
			found = conf_params[i].name;
		}
	}
	return found;
}
