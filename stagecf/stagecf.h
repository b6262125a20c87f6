/*
 * stagecf.h - what the files of stagecf/ share: error texts that name the
 * file and line a parameter was set at.
 *
 * stagecf/ is the layer between the libraries (conf/, mail/) and the
 * stages: each stage's reading of the configuration, beyond what a
 * parameter's type says, written once so that moatd's start-up check
 * (stagecf/check.c) and the stage itself run the same code.
 */
#ifndef MOAT_STAGECF_STAGECF_H
#define MOAT_STAGECF_STAGECF_H

#include "conf/conf.h"
#include "lib/buf.h"

/* stagecf_fail - "main.cf:12: parameter name: reason" into err (or
 * "<main.cf path>: parameter name (default value): reason"); always -1. */
int stagecf_fail(struct buf *err, const struct conf *c, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
