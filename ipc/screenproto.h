/*
 * screenproto.h - constants carried in the screen <-> smtpd messages of
 * schema.def.
 */
#ifndef MOAT_IPC_SCREENPROTO_H
#define MOAT_IPC_SCREENPROTO_H

/* MSG_SCREEN_CONN.flags */
#define SCREEN_F_STRESS		0x01	/* every smtpd was busy: use the stress values */
#define SCREEN_F_EXCEPT		0x02	/* client in smtpd_client_event_limit_exceptions */
#define SCREEN_F_ALL		0x03

/* MSG_SCREEN_RATE.event */
#define SCREEN_RATE_MAIL	1	/* a MAIL FROM (smtpd_client_message_rate_limit) */
#define SCREEN_RATE_RCPT	2	/* a RCPT TO (smtpd_client_recipient_rate_limit) */

/* The most bytes screen reads before it hands a connection over. */
#define SCREEN_INPUT_MAX	4096

#endif
