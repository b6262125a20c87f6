/*
 * xmem.h - allocation that never returns NULL: out of memory is fatal.
 *
 * A peer cannot cause these to fail (sizes it controls are capped by struct
 * buf or checked before allocation); an allocation failure is a broken
 * environment, so the stage exits and the broker restarts it.
 */
#ifndef MOAT_LIB_XMEM_H
#define MOAT_LIB_XMEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
void xfree(void *p);

#endif
