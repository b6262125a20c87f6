/*
 * mailproto.h - constants carried in the mail-path messages of schema.def.
 */
#ifndef MOAT_IPC_MAILPROTO_H
#define MOAT_IPC_MAILPROTO_H

/* MSG_CLEANUP_OPEN flags */
#define CLEANUP_F_BOUNCE	0x01	/* a DSN made by bounce: never bounce it again */
#define CLEANUP_F_SMTPUTF8	0x02	/* SMTPUTF8 given on MAIL FROM */
#define CLEANUP_F_NOTICE	0x04	/* with BOUNCE: a notice to the postmaster; dropped if it fails */

/* MSG_CLEANUP_ACTION.action: what smtpd's access checks decided for the message */
#define CLEANUP_ACT_HOLD	1	/* commit into hold/ (addr empty) */
#define CLEANUP_ACT_REDIRECT	2	/* every recipient replaced by addr */
#define CLEANUP_ACT_BCC		3	/* addr added as a recipient, NOTIFY=NEVER */

/* DSN NOTIFY bits (RFC 3461) */
#define DSN_NOTIFY_NEVER	0x01
#define DSN_NOTIFY_SUCCESS	0x02
#define DSN_NOTIFY_FAILURE	0x04
#define DSN_NOTIFY_DELAY	0x08

/* DSN RET */
#define DSN_RET_NONE	0
#define DSN_RET_FULL	1
#define DSN_RET_HDRS	2

/* body types */
#define BODY_NONE	0
#define BODY_7BIT	1
#define BODY_8BITMIME	2

/* MSG_DELIVER_STATUS.status, MSG_DELIVER_DONE.site_status */
#define DELIVER_SENT	0
#define DELIVER_DEFER	1
#define DELIVER_BOUNCE	2

/* MSG_DNS_QUERY.type */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16

/* MSG_POLICY_ANSWER.status */
#define POLICY_OK	0	/* action is the server's answer */
#define POLICY_FAILED	1	/* no usable answer (action says why): the default action */
#define DNS_T_AAAA	28
#define DNS_T_TLSA	52	/* answered with MSG_DNS_TLSA, not MSG_DNS_RR */

/* MSG_DNS_END.status */
#define DNS_OK		0
#define DNS_NOTFOUND	1	/* NXDOMAIN */
#define DNS_NODATA	2	/* name exists, no record of that type */
#define DNS_TEMPFAIL	3	/* timeout, SERVFAIL: try later */
#define DNS_PERMFAIL	4	/* malformed name, refused: do not retry this name */

/* MSG_BOUNCE_REQUEST.kind */
#define BOUNCE_FAILED	1	/* recipients in bounce/<id>: failure DSN */
#define BOUNCE_DELAYED	2	/* recipients in defer/<id>: delay warning */

#endif
