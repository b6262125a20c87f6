/*
 * tlskeys.h - the TLS private key files the configuration names.
 *
 * The broker opens exactly these files for the tlskey stage (it never
 * reads one) and hands them over with one "<where>: <parameter>\n<path>"
 * argument each (where: "main.cf:12", "master.cf:3", or nothing for a
 * default). Named by smtpd_tls_key_file (whose default is
 * $smtpd_tls_cert_file: a file holding both), smtpd_tls_chain_files,
 * smtp_tls_key_file and smtp_tls_chain_files, in main.cf and in each
 * master.cf service's -o overrides; a path named twice is listed once.
 */
#ifndef MOAT_STAGECF_TLSKEYS_H
#define MOAT_STAGECF_TLSKEYS_H

#include "conf/conf.h"
#include "lib/buf.h"

/* stagecf_tls_key_files - NULL-terminated, each item xmalloc'd; free with
 * xfree. NULL and err if a service's overrides do not apply (m may be NULL). */
char **stagecf_tls_key_files(const struct conf *c, const struct master_cf *m, struct buf *err);

/*
 * stagecf_tls_keys_open - the broker's side: each file opened read-only
 * into fds (at most max) and its "<parameter>\n<path>" into *args; -1 and
 * err (every fd closed) if one cannot be opened. The caller closes the fds
 * and frees args with broker_tables_close. Opens; never reads.
 */
int stagecf_tls_keys_open(const struct conf *c, const struct master_cf *m, int *fds, int *nfds,
			  int max, char ***args, struct buf *err);

#endif
