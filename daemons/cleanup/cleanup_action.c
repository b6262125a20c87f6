/*
 * cleanup_action.c - what smtpd's access checks (an access table or a
 * policy service answering HOLD, REDIRECT or BCC) decided for the message,
 * received as MSG_CLEANUP_ACTION after the content and before END.
 *
 * The decision is kept where header_checks keeps its own (cm->check,
 * cm->redirect, cm->bcc) and acted on at the message's end by
 * cleanup_msg.c: HOLD commits into hold/, REDIRECT sends every recipient
 * to its address, BCC adds a recipient that asks for no DSN. A REDIRECT
 * from header_checks came later in Postfix's order (smtpd's envelope
 * first, then the content), so it wins over smtpd's.
 *
 * SECURITY: smtpd is assumed compromised. An action outside an open
 * message, of an unknown kind, HOLD with an address, or an address that
 * fails cleanup_addr_bad or has no '@' is a violation of the channel; so
 * is a BCC past the room cm->bcc has (no unbounded growth). smtpd logged
 * the action; this file logs nothing a client chose.
 */
#include <string.h>

#include "daemons/cleanup/cleanup_msg.h"
#include "ipc/mailproto.h"

/* action_addr - why an action's address must not be queued, or NULL. */
static const char *action_addr(const struct cleanup_msg *cm, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || at == addr || at[1] == 0)
		return "REDIRECT or BCC address without user@domain";
	return cleanup_addr_bad(addr, cm->flags);
}

int cleanup_msg_action(struct cleanup_msg *cm, const struct ipc_cleanup_action *a)
{
	if (cm->state == CM_IDLE && cm->status != 0)
		return 0;	/* the open failed: END reports it */
	if (cm->state != CM_ENVELOPE && cm->state != CM_HEADERS && cm->state != CM_BODY)
		return -1;
	if (a->action == CLEANUP_ACT_HOLD) {
		if (*a->addr) {
			cm->violation = "HOLD with an address";
			return -1;
		}
		cm->check |= CM_CHECK_HOLD;
		return 0;
	}
	if (a->action != CLEANUP_ACT_REDIRECT && a->action != CLEANUP_ACT_BCC) {
		cm->violation = "unknown action";
		return -1;
	}
	if ((cm->violation = action_addr(cm, a->addr)) != NULL)
		return -1;
	if (a->action == CLEANUP_ACT_REDIRECT) {
		if (cm->redirect.len == 0 && buf_set_str(&cm->redirect, a->addr) < 0)
			cm->violation = "REDIRECT address too long";
	} else if (buf_append(&cm->bcc, a->addr, strlen(a->addr) + 1) < 0) {
		cm->violation = "too many BCC actions";
	}
	return cm->violation ? -1 : 0;
}
