/*
 * smtpd_networks.h - mynetworks and this host's addresses, for
 * smtpd_policy_load only (stagecf/smtpd_networks.c).
 */
#ifndef MOAT_STAGECF_SMTPD_NETWORKS_H
#define MOAT_STAGECF_SMTPD_NETWORKS_H

#include "stagecf/smtpd_policy.h"

/* smtpd_networks_load - p->mynetworks and p->local_addrs (initialised by
 * the caller); 0, or -1 and "where: parameter name: reason" in err. */
int smtpd_networks_load(struct smtpd_policy *p, const struct conf *c, unsigned flags,
			struct buf *err);

#endif
