/*
 * stage_test_tlskey.c - a compromised smtpd or smtp against the tlskey
 * stage (test build only, see stage_test.c), and a signature asked through
 * the real client API (stage_tlskey.c) for the end-to-end test.
 *
 * Actions (MOAT_TEST_ATTACK="smtpd:tlskey-...", a stage with a tlskey edge):
 *   tlskey-sign/A/M/KEYHEX/DIGESTHEX  one request through tlskey_client_sign;
 *                      logs "tlskey-sign status S sig HEX"
 *   tlskey-badalg      a well-formed request with a scheme TLS does not use
 *   tlskey-shortdigest a SHA-256 request with a 20-byte digest
 *   tlskey-hugedigest  a request whose digest is past the schema's bound
 *   tlskey-flood=N     N requests at once; logs "tlskey-flood <status>=<count>..."
 * Each logs what came back and returns 0 only if the stage did what was
 * asked: -1 with EACCES for a refusal, EBUSY for a flood held to its rate,
 * ECONNRESET for a cut channel.
 */
#include "skeleton/stage_test.h"

#ifdef MOAT_TEST_HOOKS
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/msg.h"
#include "skeleton/stage.h"
#include "skeleton/stage_tlskey.h"

static int test_hex(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		unsigned v;

		if (sscanf(s + i, "%2x", &v) != 1)
			return -1;
		(void)buf_putc(out, (int)v);
	}
	return n % 2 == 0 ? 0 : -1;
}

static void test_hex_log(const char *what, int status, const unsigned char *p, size_t n)
{
	struct buf hex = BUF_INIT;

	for (size_t i = 0; i < n; i++)
		(void)buf_printf(&hex, "%02x", p[i]);
	msg_info("%s status %d sig %s", what, status, buf_str(&hex));
	buf_free(&hex);
}

/* "A/M/KEYHEX/DIGESTHEX" through the client API, as a TLS handshake would ask. */
static int test_tlskey_sign(struct tlskey_client *tc, const char *arg)
{
	struct buf key = BUF_INIT, dig = BUF_INIT;
	unsigned char sig[TLSKEY_SIG_MAX];
	struct tlskey_request r = { 0 };
	char *end = NULL;
	const char *k;
	size_t len = 0;
	int st = -1;

	r.alg = (unsigned)strtoul(arg, &end, 10);
	if (*end == '/')
		r.md = (unsigned)strtoul(end + 1, &end, 10);
	k = *end == '/' ? end + 1 : NULL;
	if (k && strchr(k, '/') && test_hex(k, (size_t)(strchr(k, '/') - k), &key) == 0
	    && test_hex(strchr(k, '/') + 1, strlen(strchr(k, '/') + 1), &dig) == 0
	    && key.len == TLSKEY_ID_LEN) {
		r.key_id = (const unsigned char *)key.data;
		r.digest = (const unsigned char *)dig.data;
		r.digest_len = dig.len;
		st = tlskey_client_sign(tc, &r, sig, sizeof(sig), &len);
		test_hex_log("tlskey-sign", st, sig, len);
	}
	buf_free(&key);
	buf_free(&dig);
	errno = st == TLSKEY_OK ? 0 : EACCES;
	return st == TLSKEY_OK ? 0 : -1;
}

/* MSG_TLSKEY_SIGN by hand with a digest one byte past its bound. */
static int test_tlskey_huge(struct tlskey_client *tc)
{
	static const unsigned char id[TLSKEY_ID_LEN];
	struct buf p = BUF_INIT;
	uint32_t zero = 0, one = 1, idlen = TLSKEY_ID_LEN, dlen = TLSKEY_DIGEST_MAX + 1;
	uint16_t type = MSG_TLSKEY_SIGN;
	int r;

	(void)buf_append(&p, &type, 2);			/* little-endian hosts only (x86, arm) */
	(void)buf_append(&p, &zero, 4);			/* id */
	(void)buf_append(&p, &idlen, 4);
	(void)buf_append(&p, id, sizeof(id));
	(void)buf_append(&p, &one, 4);			/* alg */
	(void)buf_append(&p, &one, 4);			/* md */
	(void)buf_append(&p, &dlen, 4);
	for (uint32_t i = 0; i < dlen; i++)
		(void)buf_putc(&p, 'd');
	r = send(tc->ch.fd, p.data, p.len, MSG_NOSIGNAL) == (ssize_t)p.len ? 0 : -1;
	buf_free(&p);
	return r;
}

/* One request by hand; the status that came back, or -1 for a cut channel. */
static int test_tlskey_one(struct tlskey_client *tc, unsigned alg, unsigned md, size_t dlen)
{
	static const unsigned char id[TLSKEY_ID_LEN], dig[TLSKEY_DIGEST_MAX];
	struct ipc_tlskey_sign q = { .id = 7, .key_id = id, .key_id_len = TLSKEY_ID_LEN,
				     .alg = alg, .md = md, .digest = dig,
				     .digest_len = (uint32_t)dlen };

	if (ipc_chan_send(&tc->ch, MSG_TLSKEY_SIGN, &q) < 0)
		return -1;
	ipc_msg_reset(&tc->m);
	return ipc_chan_recv(&tc->ch, &tc->m) == IPC_RECV_MSG ? (int)tc->m.u.tlskey_sig.status : -1;
}

static int test_tlskey_flood(struct tlskey_client *tc, int n)
{
	int count[TLSKEY_FAILED + 1] = { 0 }, cut = 0;

	for (int i = 0; i < n && !cut; i++) {
		int st = test_tlskey_one(tc, 2, 1, 32);

		if (st < 0)
			cut = 1;
		else
			count[st]++;
	}
	msg_info("tlskey-flood ok=%d refused=%d nokey=%d rate=%d failed=%d cut=%d", count[0],
		 count[1], count[2], count[3], count[4], cut);
	errno = cut ? ECONNRESET : EBUSY;
	return cut || count[TLSKEY_RATE] > 0 ? -1 : 0;
}

static int test_tlskey_act(struct tlskey_client *tc, const char *action)
{
	int st;

	if (strncmp(action, "tlskey-sign/", 12) == 0)
		return test_tlskey_sign(tc, action + 12);
	if (strncmp(action, "tlskey-flood=", 13) == 0)
		return test_tlskey_flood(tc, atoi(action + 13));
	if (strcmp(action, "tlskey-hugedigest") == 0) {
		if (test_tlskey_huge(tc) < 0)
			return -1;
		ipc_msg_reset(&tc->m);
		st = ipc_chan_recv(&tc->ch, &tc->m) == IPC_RECV_MSG ? (int)tc->m.u.tlskey_sig.status : -1;
	} else if (strcmp(action, "tlskey-badalg") == 0) {
		st = test_tlskey_one(tc, 9, 1, 32);
	} else if (strcmp(action, "tlskey-shortdigest") == 0) {
		st = test_tlskey_one(tc, 2, 1, 20);
	} else {
		errno = EINVAL;
		return -1;
	}
	msg_info("%s status %d", action, st);
	errno = st < 0 ? ECONNRESET : EACCES;
	return st == TLSKEY_OK ? 0 : -1;
}

int stage_test_tlskey(struct stage *st, const char *action)
{
	struct tlskey_client tc;
	pid_t pid = 0;
	int fd, r;

	tlskey_client_init(&tc, st);
	if (strncmp(action, "tlskey-sign/", 12) != 0) {
		/* the raw attacks need the channel (and its hello) before they send */
		if ((fd = stage_request_peer(st, "tlskey", &pid)) < 0)
			return -1;
		tlskey_client_adopt(&tc, fd, pid);
		if (ipc_chan_hello(&tc.ch) < 0)
			return -1;
	}
	r = test_tlskey_act(&tc, action);
	int saved = errno;

	tlskey_client_free(&tc);
	errno = saved;
	return r;
}
#endif
