/*
 * test_map_util.h - helpers shared by the test_map_*.c unit tests: table
 * files in a private temporary directory, and one-line lookup checks.
 */
#ifndef MOAT_TEST_MAP_UTIL_H
#define MOAT_TEST_MAP_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/map.h"

static char tmap_dir[64];

static __attribute__((unused)) void tmap_dir_make(void)
{
	if (tmap_dir[0] == 0) {
		strcpy(tmap_dir, "/tmp/test_map.XXXXXX");
		assert_non_null(mkdtemp(tmap_dir));
	}
}

static __attribute__((unused)) void tmap_dir_remove(void)
{
	char cmd[128];

	if (tmap_dir[0] == 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmap_dir);
	assert_int_equal(system(cmd), 0);
	tmap_dir[0] = 0;
}

/* tmap_teardown - the group teardown: the directory goes. */
static __attribute__((unused)) int tmap_teardown(void **state)
{
	(void)state;
	tmap_dir_remove();
	return 0;
}

/* tmap_file - write text to a file named name in the test directory; its path. */
static __attribute__((unused)) const char *tmap_file(const char *name, const char *text)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	FILE *f;

	tmap_dir_make();
	snprintf(p, 256, "%s/%s", tmap_dir, name);
	assert_non_null(f = fopen(p, "w"));
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return p;
}

/* tmap_spec - "type:path" in a static buffer. */
static __attribute__((unused)) const char *tmap_spec(const char *type, const char *path)
{
	static char spec[2][300];
	static int next;
	char *s = spec[next++ % 2];

	snprintf(s, 300, "%s:%s", type, path);
	return s;
}

static __attribute__((unused)) struct map *tmap_open(const char *spec, unsigned flags)
{
	struct buf err = BUF_INIT;
	struct map *m = map_open_path(spec, NULL, flags, &err);

	if (m == NULL)
		fail_msg("%s: %s", spec, buf_str(&err));
	buf_free(&err);
	return m;
}

/* tmap_open_err - map_open_path must fail; its error must contain want. */
static __attribute__((unused)) void tmap_open_err(const char *spec, const char *want)
{
	struct buf err = BUF_INIT;
	struct map *m = map_open_path(spec, NULL, 0, &err);

	if (m != NULL)
		fail_msg("%s: opened, expected \"%s\"", spec, want);
	if (strstr(buf_str(&err), want) == NULL)
		fail_msg("%s: error \"%s\", expected \"%s\"", spec, buf_str(&err), want);
	buf_free(&err);
}

/* tmap_get - the result of looking key up: want NULL means "not found". */
static __attribute__((unused)) void tmap_expect(struct map *m, const char *key, const char *want)
{
	struct buf v = BUF_INIT;
	enum map_result r = map_lookup(m, key, &v);

	if (want == NULL && r != MAP_NOTFOUND)
		fail_msg("%s: \"%s\" gave %d \"%s\", expected not found", map_spec(m), key, r,
			 buf_str(&v));
	if (want != NULL && (r != MAP_FOUND || strcmp(buf_str(&v), want) != 0))
		fail_msg("%s: \"%s\" gave %d \"%s\", expected \"%s\"", map_spec(m), key, r,
			 buf_str(&v), want);
	buf_free(&v);
}

#endif
