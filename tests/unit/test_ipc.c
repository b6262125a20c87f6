/*
 * test_ipc.c - unit tests of ipc/codec.c and ipc/channels.c: every schema
 * message survives encode+decode, every decoder rejection rule fires with a
 * reason, the encoder refuses caller bugs, fd kinds are checked, and the
 * channel tables say what channels.def says. Channel I/O is in
 * test_ipc_chan.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/test_ipc_fill.h"

/* reason - decode must fail, and say something containing want. */
static void reason(const void *pkt, size_t len, const int *fds, int nfds, const char *want)
{
	struct ipc_msg m;
	struct buf why = BUF_INIT;

	ipc_msg_init(&m);
	assert_int_equal(ipc_decode(&m, pkt, len, fds, nfds, &why), -1);
	if (strstr(buf_str(&why), want) == NULL)
		fail_msg("reason '%s' lacks '%s'", buf_str(&why), want);
	assert_int_equal(m.nfds, 0);
	assert_int_equal(m.type, MSG_INVALID);
	ipc_msg_free(&m);
	buf_free(&why);
}

/* enc - encode a message, which must succeed. */
static void enc(struct buf *out, int *fds, int *nfds, enum ipc_type type, const void *msg)
{
	struct buf why = BUF_INIT;

	buf_reset(out);
	if (ipc_encode_why(out, fds, nfds, type, msg, &why) < 0)
		fail_msg("encode %s: %s", ipc_type_name(type), buf_str(&why));
	buf_free(&why);
}

/* encode_fails - encode must refuse, leave out unchanged and say want. */
static void encode_fails(enum ipc_type type, const void *msg, const char *want)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds = 7;

	assert_int_equal(buf_append_str(&out, "keep"), 0);
	assert_int_equal(ipc_encode_why(&out, fds, &nfds, type, msg, &why), -1);
	assert_int_equal(ipc_encode(&out, fds, &nfds, type, msg), -1);
	assert_string_equal(buf_str(&out), "keep");
	assert_int_equal(nfds, 0);
	if (strstr(buf_str(&why), want) == NULL)
		fail_msg("reason '%s' lacks '%s'", buf_str(&why), want);
	buf_free(&out);
	buf_free(&why);
}

/* roundtrip - fill type e, encode, decode with dup'd fds, compare. */
static void roundtrip(const struct fill_entry *e, int at_max)
{
	struct fill f = { .at_max = at_max, .tmp = fill_tmp_path };
	struct buf pkt = BUF_INIT, why = BUF_INIT;
	struct ipc_msg m;
	fill_any in;
	int fds[IPC_MAX_FDS], dups[IPC_MAX_FDS], nfds;

	memset(&in, 0, sizeof(in));
	ipc_msg_init(&m);
	fill_run(&f, e, 0, &in, &m);
	enc(&pkt, fds, &nfds, e->type, &in);
	assert_true(pkt.len <= IPC_MAX_PACKET);
	for (int i = 0; i < nfds; i++)
		assert_true((dups[i] = dup(fds[i])) >= 0);
	if (ipc_decode(&m, pkt.data, pkt.len, dups, nfds, &why) < 0)
		fail_msg("decode %s: %s", ipc_type_name(e->type), buf_str(&why));
	assert_int_equal(m.type, e->type);
	assert_int_equal(m.nfds, nfds);
	fill_run(&f, e, 1, &in, &m);
	ipc_msg_free(&m);
	fill_done(&f);
	buf_free(&pkt);
	buf_free(&why);
}

/* Every message of the schema, short and at max length; no fd leaks. */
static void test_roundtrip_all(void **state)
{
	int before = test_count_fds();

	(void)state;
	assert_int_equal(FILL_NTYPES, MSG_COUNT - 1);
	for (size_t i = 0; i < FILL_NTYPES; i++) {
		roundtrip(&fill_table[i], 0);
		roundtrip(&fill_table[i], 1);
	}
	assert_int_equal(test_count_fds(), before);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(ipc_type_name(MSG_HELLO), "MSG_HELLO");
	assert_string_equal(ipc_type_name(MSG_CONTROL_REPLY), "MSG_CONTROL_REPLY");
	assert_string_equal(ipc_type_name(MSG_INVALID), "MSG_INVALID");
	assert_string_equal(ipc_type_name(MSG_COUNT), "MSG_UNKNOWN");
	assert_string_equal(ipc_type_name((enum ipc_type)-1), "MSG_UNKNOWN");
}

/* A hand-written packet must match the documented wire format exactly. */
static void test_wire_format(void **state)
{
	static const unsigned char want[] = {
		MSG_HELLO, 0, 3, 0, 0, 0, 'a', 'b', 'c', 0x04, 0x03, 0x02, 0x01,
	};
	struct ipc_hello h = { .proto = "abc", .version = 0x01020304 };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds;
	struct ipc_msg m;

	(void)state;
	enc(&pkt, fds, &nfds, MSG_HELLO, &h);	/* _len 0: strlen */
	assert_int_equal(pkt.len, sizeof(want));
	assert_memory_equal(pkt.data, want, sizeof(want));
	assert_int_equal(nfds, 0);
	ipc_msg_init(&m);
	assert_int_equal(ipc_decode(&m, want, sizeof(want), NULL, 0, NULL), 0);
	assert_string_equal(m.u.hello.proto, "abc");
	assert_int_equal(m.u.hello.version, 0x01020304);
	/* Reuse of one struct: the next decode replaces the first. */
	h.proto = NULL;
	enc(&pkt, fds, &nfds, MSG_HELLO, &h);
	assert_int_equal(ipc_decode(&m, pkt.data, pkt.len, NULL, 0, NULL), 0);
	assert_string_equal(m.u.hello.proto, "");
	assert_int_equal(m.u.hello.proto_len, 0);
	ipc_msg_free(&m);
	buf_free(&pkt);
}

static void test_reject_type(void **state)
{
	unsigned char p[] = { 0, 0, 0, 0, 0, 0 };

	(void)state;
	reason(p, sizeof(p), NULL, 0, "unknown message type 0");
	p[0] = MSG_COUNT;
	reason(p, sizeof(p), NULL, 0, "unknown message type");
	p[0] = 0xff;
	p[1] = 0xff;
	reason(p, sizeof(p), NULL, 0, "unknown message type 65535");
	p[0] = MSG_HELLO;
	p[1] = 1;	/* high byte of the type: 257 + MSG_HELLO */
	reason(p, sizeof(p), NULL, 0, "unknown message type");
	reason(p, 1, NULL, 0, "has no type");
	reason(p, 0, NULL, 0, "has no type");
}

static void test_reject_truncated_u32(void **state)
{
	unsigned char p[] = { MSG_BROKER_READY, 0, 1, 2, 3, 4 };

	(void)state;
	reason(p, 5, NULL, 0, "MSG_BROKER_READY: field 'pid': truncated");
	reason(p, 2, NULL, 0, "truncated");
}

static void test_reject_truncated_strlen(void **state)
{
	unsigned char p[] = { MSG_HELLO, 0, 1, 0 };

	(void)state;
	reason(p, sizeof(p), NULL, 0, "MSG_HELLO: field 'proto': truncated");
}

static void test_reject_strlen_over_max(void **state)
{
	struct buf pkt = BUF_INIT;
	unsigned char big[] = { MSG_HELLO, 0, 0xff, 0xff, 0xff, 0xff };

	(void)state;
	assert_int_equal(buf_append(&pkt, "\x01\x00\x21\x00\x00\x00", 6), 0);	/* HELLO, len 33 */
	for (int i = 0; i < 33; i++)
		assert_int_equal(buf_putc(&pkt, 'x'), 0);
	assert_int_equal(buf_append(&pkt, "\x01\x00\x00\x00", 4), 0);
	reason(pkt.data, pkt.len, NULL, 0, "MSG_HELLO: field 'proto': length 33 > max 32");
	reason(big, sizeof(big), NULL, 0, "length 4294967295 > max 32");
	buf_free(&pkt);
}

static void test_reject_str_body_truncated(void **state)
{
	unsigned char p[] = { MSG_HELLO, 0, 10, 0, 0, 0, 'a', 'b' };

	(void)state;
	reason(p, sizeof(p), NULL, 0, "length 10, only 2 bytes left");
}

/* A STR may not hold a NUL; a BYTES may, and keeps it. */
static void test_reject_nul_in_str(void **state)
{
	unsigned char p[] = { MSG_HELLO, 0, 3, 0, 0, 0, 'a', 0, 'b', 1, 0, 0, 0 };
	struct ipc_ipc_selftest s = { .name = "n", .data = (const unsigned char *)"a\0b", .data_len = 3 };
	struct ipc_hello h = { .proto = "a\0b", .proto_len = 3 };
	struct fill f = { .tmp = fill_tmp_path };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds;
	struct ipc_msg m;

	(void)state;
	reason(p, sizeof(p), NULL, 0, "MSG_HELLO: field 'proto': NUL inside the string");
	encode_fails(MSG_HELLO, &h, "NUL inside");
	s.ro = fill_open_kind(&f, IPC_FD_REG_RO);
	s.rw = fill_open_kind(&f, IPC_FD_REG);
	s.dir = fill_open_kind(&f, IPC_FD_DIR);
	s.any = fill_open_kind(&f, IPC_FD_ANY);
	enc(&pkt, fds, &nfds, MSG_IPC_SELFTEST, &s);
	assert_int_equal(nfds, 4);
	ipc_msg_init(&m);
	assert_int_equal(ipc_decode(&m, pkt.data, pkt.len, fds, nfds, NULL), 0);
	assert_int_equal(m.u.ipc_selftest.data_len, 3);
	assert_memory_equal(m.u.ipc_selftest.data, "a\0b", 4);
	ipc_msg_free(&m);	/* closes the four fds */
	buf_free(&pkt);
}

static void test_reject_trailing_byte(void **state)
{
	unsigned char p[] = { MSG_BROKER_READY, 0, 1, 2, 3, 4, 0 };

	(void)state;
	reason(p, sizeof(p), NULL, 0, "MSG_BROKER_READY: 1 bytes after the last field");
}

/* Fds: exactly one per FD field, in order; count must match. */
static void test_reject_fd_count(void **state)
{
	unsigned char hello[] = { MSG_HELLO, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	unsigned char grant[] = { MSG_BROKER_PEER_GRANT, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'x',
				  2, 0, 0, 0, 0 };
	int before = test_count_fds();
	int sv[2], two[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	two[0] = sv[0];
	two[1] = sv[1];
	reason(hello, sizeof(hello), sv, 1, "MSG_HELLO: 1 fds received, message carries 0");
	reason(grant, sizeof(grant), NULL, 0, "MSG_BROKER_PEER_GRANT: field 'fd': no fd left (0 received)");
	reason(grant, sizeof(grant), two, 2, "2 fds received, message carries 1");
	grant[sizeof(grant) - 1] = 1;
	reason(grant, sizeof(grant), two, 2, "fd index 1, expected 0");
	reason(grant, sizeof(grant), two, 5, "5 fds with one packet");
	reason(grant, sizeof(grant), two, -1, "-1 fds with one packet");
	grant[sizeof(grant) - 1] = 0;
	reason(grant, sizeof(grant) - 1, sv, 1, "field 'fd': truncated");
	/* And the right count decodes; the message then owns the fd. */
	{
		struct ipc_msg m;

		ipc_msg_init(&m);
		assert_int_equal(ipc_decode(&m, grant, sizeof(grant), sv, 1, NULL), 0);
		assert_int_equal(m.u.broker_peer_grant.fd, sv[0]);
		assert_int_equal(ipc_msg_take_fd(&m, sv[0]), sv[0]);
		assert_int_equal(ipc_msg_take_fd(&m, sv[0]), -1);
		ipc_msg_free(&m);
	}
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(test_count_fds(), before);
}

/* The selftest message's fds must come in schema order. */
static void test_reject_fd_order(void **state)
{
	struct ipc_ipc_selftest s = { .name = "n" };
	struct fill f = { .tmp = fill_tmp_path };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds;

	(void)state;
	s.ro = s.rw = s.dir = s.any = fill_open_kind(&f, IPC_FD_ANY);
	fill_keep(&f, s.ro);
	enc(&pkt, fds, &nfds, MSG_IPC_SELFTEST, &s);
	assert_int_equal(nfds, 4);
	assert_int_equal((unsigned char)pkt.data[pkt.len - 4], 0);
	pkt.data[pkt.len - 4] = 1;
	pkt.data[pkt.len - 3] = 0;
	reason(pkt.data, pkt.len, fds, nfds, "field 'ro': fd index 1, expected 0");
	fill_done(&f);
	buf_free(&pkt);
}

static void test_reject_oversize_packet(void **state)
{
	unsigned char *p = calloc(1, IPC_MAX_PACKET + 1);

	(void)state;
	assert_non_null(p);
	p[0] = MSG_HELLO;
	reason(p, IPC_MAX_PACKET + 1, NULL, 0, "packet of 131073 bytes > max 131072");
	free(p);
}

/* fd kinds are checked with fstat (and F_GETFL for read-only). */
static void test_fd_kinds(void **state)
{
	struct ipc_ipc_selftest s = { .name = "n" };
	struct fill f = { .tmp = fill_tmp_path };
	struct buf pkt = BUF_INIT;
	int fds[IPC_MAX_FDS], nfds, p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	fill_keep(&f, p[0]);
	fill_keep(&f, p[1]);
	assert_string_equal(ipc_fd_check(p[0], IPC_FD_SOCK), "not a socket");
	assert_null(ipc_fd_check(p[0], IPC_FD_ANY));
	s.ro = fill_open_kind(&f, IPC_FD_REG);	/* O_RDWR where REG_RO is declared */
	s.rw = fill_open_kind(&f, IPC_FD_REG_RO);	/* read-only is fine for REG */
	s.dir = fill_open_kind(&f, IPC_FD_DIR);
	s.any = p[0];
	fill_keep(&f, s.ro);
	fill_keep(&f, s.rw);
	fill_keep(&f, s.dir);
	assert_string_equal(ipc_fd_check(s.ro, IPC_FD_REG_RO), "not opened read-only");
	assert_null(ipc_fd_check(s.rw, IPC_FD_REG_RO));
	assert_null(ipc_fd_check(s.ro, IPC_FD_REG));
	assert_string_equal(ipc_fd_check(s.dir, IPC_FD_REG), "not a regular file");
	assert_string_equal(ipc_fd_check(s.rw, IPC_FD_DIR), "not a directory");
	assert_null(ipc_fd_check(s.dir, IPC_FD_DIR));
	assert_string_equal(ipc_fd_check(-1, IPC_FD_ANY), "fstat failed");
	enc(&pkt, fds, &nfds, MSG_IPC_SELFTEST, &s);
	reason(pkt.data, pkt.len, fds, nfds, "MSG_IPC_SELFTEST: field 'ro': not opened read-only");
	s.ro = s.rw;
	s.dir = p[1];	/* a pipe where a directory is declared */
	enc(&pkt, fds, &nfds, MSG_IPC_SELFTEST, &s);
	reason(pkt.data, pkt.len, fds, nfds, "field 'dir': not a directory");
	fill_done(&f);
	buf_free(&pkt);
}

/* The encoder refuses the caller's bugs and leaves out untouched. */
static void test_encode_rejects(void **state)
{
	struct ipc_hello h = { .proto = "123456789012345678901234567890123" };
	struct ipc_broker_peer_grant g = { .peer_stage = "x", .fd = -1 };
	struct ipc_ipc_selftest s = { .name = "n" };
	struct ipc_log_line l = { .text = NULL, .text_len = 4 };

	(void)state;
	encode_fails(MSG_HELLO, &h, "MSG_HELLO: field 'proto': length 33 > max 32");
	h.proto_len = 40;
	encode_fails(MSG_HELLO, &h, "length 40 > max 32");
	encode_fails(MSG_BROKER_PEER_GRANT, &g, "field 'fd': fd -1");
	encode_fails(MSG_LOG_LINE, &l, "field 'text': NULL with length 4");
	encode_fails(MSG_INVALID, &h, "unknown message type 0");
	encode_fails(MSG_COUNT, &h, "unknown message type");
	s.data = calloc(1, IPC_MAX_PACKET);
	assert_non_null(s.data);
	s.data_len = IPC_MAX_PACKET;
	s.ro = s.rw = s.dir = s.any = 0;
	encode_fails(MSG_IPC_SELFTEST, &s, "MSG_IPC_SELFTEST: packet > 131072 bytes");
	free((void *)s.data);
}

/* channels.def as tables. */
static void test_channel_tables(void **state)
{
	enum ipc_chan_kind k = IPC_CHAN_COUNT;

	(void)state;
	assert_string_equal(ipc_chan_proto(IPC_CHAN_BROKER), "moat-broker");
	assert_string_equal(ipc_chan_proto(IPC_CHAN_LOG), "moat-log");
	assert_string_equal(ipc_chan_proto(IPC_CHAN_COUNT), "unknown");
	assert_int_equal(ipc_chan_version(IPC_CHAN_CONTROL), 1);
	assert_int_equal(ipc_chan_version(IPC_CHAN_COUNT), 0);
	assert_string_equal(ipc_chan_side_name(IPC_CHAN_CONTROL, IPC_SIDE_A), "moatctl");
	assert_string_equal(ipc_chan_side_name(IPC_CHAN_BROKER, IPC_SIDE_B), "broker");
	assert_true(ipc_chan_allowed(IPC_CHAN_BROKER, IPC_SIDE_B, MSG_BROKER_START));
	assert_false(ipc_chan_allowed(IPC_CHAN_BROKER, IPC_SIDE_A, MSG_BROKER_START));
	assert_true(ipc_chan_allowed(IPC_CHAN_BROKER, IPC_SIDE_A, MSG_BROKER_READY));
	assert_false(ipc_chan_allowed(IPC_CHAN_LOG, IPC_SIDE_B, MSG_LOG_LINE));
	assert_false(ipc_chan_allowed(IPC_CHAN_LOG, IPC_SIDE_A, MSG_BROKER_READY));
	assert_true(ipc_chan_allowed(IPC_CHAN_LOG, IPC_SIDE_B, MSG_HELLO));
	assert_false(ipc_chan_allowed(IPC_CHAN_LOG, IPC_SIDE_A, MSG_INVALID));
	assert_false(ipc_chan_allowed(IPC_CHAN_LOG, IPC_SIDE_A, MSG_COUNT));
	assert_false(ipc_chan_allowed(IPC_CHAN_COUNT, IPC_SIDE_A, MSG_HELLO));
	assert_false(ipc_chan_allowed(IPC_CHAN_LOG, (enum ipc_side)2, MSG_HELLO));
	for (int side = 0; side < 2; side++)
		for (int kind = 0; kind < IPC_CHAN_COUNT; kind++)
			assert_false(ipc_chan_allowed(kind, side, MSG_IPC_SELFTEST));
	assert_int_equal(ipc_edge_lookup("smtpd", "log", &k), 0);
	assert_int_equal(k, IPC_CHAN_LOG);
	k = IPC_CHAN_COUNT;
	assert_int_equal(ipc_edge_lookup("smtpd", "qmgr", &k), -1);
	assert_int_equal(ipc_edge_lookup("log", "smtpd", &k), -1);
	assert_int_equal(ipc_edge_lookup("smtpd", NULL, &k), -1);
	assert_int_equal(k, IPC_CHAN_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_wire_format),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_reject_truncated_u32),
		cmocka_unit_test(test_reject_truncated_strlen),
		cmocka_unit_test(test_reject_strlen_over_max),
		cmocka_unit_test(test_reject_str_body_truncated),
		cmocka_unit_test(test_reject_nul_in_str),
		cmocka_unit_test(test_reject_trailing_byte),
		cmocka_unit_test(test_reject_fd_count),
		cmocka_unit_test(test_reject_fd_order),
		cmocka_unit_test(test_reject_oversize_packet),
		cmocka_unit_test(test_fd_kinds),
		cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_channel_tables),
	};

	return cmocka_run_group_tests(tests, fill_setup, fill_teardown);
}
