"""Receive, queue and relay end to end: real clients (smtplib, swaks, raw
sockets) -> moat -> a real next hop (aiosmtpd recording sink)."""
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from mailpeers import RecordingSink
from relayenv import FAST_RETRY, queue_ids_in, relay_main_cf, relay_master_cf, send, strip_received


@pytest.fixture
def sink():
    with RecordingSink() as s:
        yield s


@pytest.fixture
def relay(moat_factory, sink):
    def make(extra=""):
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra))
        with open(os.path.join(m.confdir, "master.cf"), "w") as f:
            f.write(relay_master_cf(m))
        return m.start()
    return make


def queue_files(m):
    out = []
    for d in ("incoming", "active", "deferred", "hold"):
        out += [f"{d}/{x}" for x in os.listdir(os.path.join(m.queue, d))]
    return out


def wait_queue_empty(m, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not queue_files(m):
            return
        time.sleep(0.05)
    raise AssertionError(f"queue not empty: {queue_files(m)}\n{m.log()}")


BODY = (b"From: Alice <alice@sender.test>\r\nTo: bob@remote.test\r\nSubject: hello\r\n"
        b"Message-ID: <test-1@sender.test>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\n"
        b"line one\r\n.starts with a dot\r\n..two dots\r\n.\r\n \r\nlast line\r\n")


def test_body_byte_identical_and_dot_stuffing(relay, sink):
    m = relay()
    qid = send(m, "alice@sender.test", ["bob@remote.test"], BODY)
    (msg,) = sink.wait_count(1)
    assert msg.mail_from == "alice@sender.test"
    assert msg.rcpt_tos == ["bob@remote.test"]
    assert strip_received(msg.content) == BODY
    assert qid.encode() in queue_ids_in(msg.content)
    wait_queue_empty(m)
    m.wait_log(rf"{qid}: removed")


def test_8bit_body_and_5mb_message(relay, sink):
    m = relay()
    # complete headers: for a local client moat, like Postfix, adds a missing
    # Message-ID/Date/From, which would change the bytes compared here
    hdr = b"From: a@sender.test\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <8@sender.test>\r\n"
    eight = hdr + b"Subject: 8bit\r\n\r\n" + bytes(range(0x80, 0x100)) + b"\r\n\xc3\xa9t\xc3\xa9\r\n"
    big = hdr + b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 5300
    assert len(big) > 5 * 1024 * 1024
    send(m, "a@sender.test", ["b@remote.test"], eight)
    send(m, "a@sender.test", ["c@remote.test"], big)
    msgs = sink.wait_count(2, timeout=60)
    by_rcpt = {x.rcpt_tos[0]: x for x in msgs}
    assert strip_received(by_rcpt["b@remote.test"].content) == eight
    assert strip_received(by_rcpt["c@remote.test"].content) == big


def test_client_pipelining(relay, sink):
    m = relay()
    s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"220")
    s.sendall(b"EHLO client.test.example\r\n")
    ehlo = []
    while True:
        line = f.readline()
        ehlo.append(line)
        if line[3:4] == b" ":
            break
    assert any(b"PIPELINING" in l for l in ehlo)
    s.sendall(b"MAIL FROM:<p@sender.test>\r\nRCPT TO:<r1@remote.test>\r\n"
              b"RCPT TO:<r2@remote.test>\r\nDATA\r\n")
    replies = [f.readline() for _ in range(4)]
    assert [r[:3] for r in replies] == [b"250", b"250", b"250", b"354"], replies
    s.sendall(b"Subject: p\r\n\r\npipelined\r\n.\r\nQUIT\r\n")
    assert f.readline().startswith(b"250")
    assert f.readline().startswith(b"221")
    s.close()
    (msg,) = sink.wait_count(1)
    assert sorted(msg.rcpt_tos) == ["r1@remote.test", "r2@remote.test"]


def test_swaks_client(relay, sink):
    m = relay()
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{m.port}", "--from", "s@sender.test",
                        "--to", "t@remote.test", "--helo", "swaks.test.example",
                        "--body", "sent by swaks"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"<-  250 2\.0\.0 Ok: queued as \w+", r.stdout), r.stdout
    (msg,) = sink.wait_count(1)
    assert b"sent by swaks" in msg.content


def test_fifty_concurrent_sessions(relay, sink):
    m = relay()
    errors = []

    def one(i):
        try:
            send(m, f"s{i}@sender.test", [f"r{i}@remote.test"], f"Subject: {i}\r\n\r\nbody {i}\r\n".encode())
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    msgs = sink.wait_count(50, timeout=60)
    assert sorted(x.rcpt_tos[0] for x in msgs) == sorted(f"r{i}@remote.test" for i in range(50))


def test_silent_client_does_not_block_others(relay, sink):
    m = relay("smtpd_timeout = 5s\n")
    silent = socket.create_connection(("127.0.0.1", m.port), timeout=10)
    t0 = time.time()
    send(m, "a@sender.test", ["b@remote.test"], b"Subject: x\r\n\r\nx\r\n")
    assert time.time() - t0 < 4
    sink.wait_count(1)
    silent.settimeout(10)
    data = silent.recv(4096)   # greeting, then the timeout's 421 and close
    while data and b"421" not in data:
        more = silent.recv(4096)
        if not more:
            break
        data += more
    assert b"421" in data
    silent.close()
    m.wait_log(r"timeout after CONNECT from|timeout after .* from")


def test_client_cut_off_mid_data_leaves_nothing(relay, sink):
    m = relay()
    s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    for cmd in (b"EHLO c.test.example", b"MAIL FROM:<a@sender.test>", b"RCPT TO:<b@remote.test>", b"DATA"):
        s.sendall(cmd + b"\r\n")
        line = f.readline()
        while line[3:4] == b"-":
            line = f.readline()
    s.sendall(b"Subject: cut\r\n\r\n" + b"partial line\r\n" * 1000)
    f.close()
    s.shutdown(socket.SHUT_RDWR)
    s.close()
    m.wait_log(r"lost connection after DATA")
    time.sleep(1)
    assert queue_files(m) == []
    assert sink.messages == []


def test_temporary_failure_then_success_delivers_once(relay, sink):
    sink.handler.data_rules = [(451, "4.3.0 try again later")]
    m = relay()
    qid = send(m, "a@sender.test", ["b@remote.test"], b"Subject: retry\r\n\r\nretry\r\n")
    m.wait_log(rf"{qid}: to=<b@remote.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=deferred \(.*451")
    msgs = sink.wait_count(1, timeout=30)
    m.wait_log(rf"{qid}: to=<b@remote.test>, .*status=sent")
    time.sleep(2)
    assert len(sink.messages) == 1
    assert msgs[0].rcpt_tos == ["b@remote.test"]
    wait_queue_empty(m)


def is_dsn_to(msg, rcpt):
    return msg.mail_from in ("", "<>") and msg.rcpt_tos == [rcpt] and b"multipart/report" in msg.content


def test_permanent_failure_returns_a_dsn_to_the_sender(relay, sink):
    sink.handler.rcpt_rules = {"nobody@remote.test": (550, "5.1.1 no such user")}
    m = relay()
    qid = send(m, "alice@sender.test", ["nobody@remote.test", "ok@remote.test"], BODY)
    m.wait_log(rf"{qid}: to=<nobody@remote.test>, .*dsn=5\.1\.1, status=bounced")
    msgs = sink.wait_count(2, timeout=30)
    dsns = [x for x in msgs if is_dsn_to(x, "alice@sender.test")]
    assert len(dsns) == 1, [x.mail_from for x in msgs]
    dsn = dsns[0].content
    assert b"report-type=delivery-status" in dsn
    assert b"Final-Recipient: rfc822; nobody@remote.test" in dsn
    assert b"Status: 5.1.1" in dsn
    assert b"Subject: hello" in dsn   # the original headers come back
    assert [x.rcpt_tos for x in msgs if x.mail_from == "alice@sender.test"] == [["ok@remote.test"]]
    wait_queue_empty(m)


def test_expiry_returns_a_dsn(relay, sink):
    sink.handler.rcpt_rules = {"slow@remote.test": (450, "4.2.0 mailbox busy")}
    m = relay("maximal_queue_lifetime = 3s\nbounce_queue_lifetime = 3s\n")
    qid = send(m, "alice@sender.test", ["slow@remote.test"], BODY)
    m.wait_log(rf"{qid}: to=<slow@remote.test>, .*status=deferred")
    (dsn,) = sink.wait_count(1, timeout=40)
    assert is_dsn_to(dsn, "alice@sender.test")
    assert b"Final-Recipient: rfc822; slow@remote.test" in dsn.content
    m.wait_log(rf"{qid}: from=<alice@sender.test>, status=expired, returned to sender")
    wait_queue_empty(m)


SMUGGLE = [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r", b"\r.\r\n"]


@pytest.mark.parametrize("fake_end", SMUGGLE, ids=[repr(x) for x in SMUGGLE])
def test_smuggled_second_message_is_never_sent(relay, sink, fake_end):
    m = relay()
    s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    for cmd in (b"EHLO c.test.example", b"MAIL FROM:<a@sender.test>", b"RCPT TO:<b@remote.test>", b"DATA"):
        s.sendall(cmd + b"\r\n")
        line = f.readline()
        while line[3:4] == b"-":
            line = f.readline()
        assert line[:1] in (b"2", b"3"), line
    s.sendall(b"Subject: s\r\n\r\nfirst" + fake_end +
              b"MAIL FROM:<evil@sender.test>\r\nRCPT TO:<victim@remote.test>\r\nDATA\r\n"
              b"Subject: smuggled\r\n\r\nevil\r\n.\r\nQUIT\r\n")
    out = f.read()
    s.close()
    msgs = sink.wait_count(1)
    time.sleep(1)
    msgs = sink.messages
    assert all(x.rcpt_tos == ["b@remote.test"] for x in msgs), [x.rcpt_tos for x in msgs]
    assert len(msgs) <= 1
    assert out.count(b"queued as") <= 1, out


def test_delivered_file_is_reused_for_the_next_message(relay, sink):
    """A delivered queue file goes to spare/ and the next message is written
    over it (same inode), reading back exactly, without the old tail."""
    m = relay()
    spare = os.path.join(m.queue, "spare")
    hdr = b"From: a@sender.test\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
    big = hdr + b"Message-ID: <big@sender.test>\r\nSubject: big\r\n\r\n" + b"old old old\r\n" * 5000
    small = hdr + b"Message-ID: <small@sender.test>\r\nSubject: small\r\n\r\nnew\r\n"
    q1 = send(m, "a@sender.test", ["b@remote.test"], big)
    sink.wait_count(1)
    wait_queue_empty(m)
    m.wait_log(rf"{q1}: removed")
    assert os.listdir(spare) == [q1]
    ino = os.stat(os.path.join(spare, q1)).st_ino
    time.sleep(1.1)  # a cleanup that found spare/ empty looks again after 1 s
    q2 = send(m, "a@sender.test", ["c@remote.test"], small)
    msgs = sink.wait_count(2)
    assert strip_received(msgs[1].content) == small
    wait_queue_empty(m)
    m.wait_log(rf"{q2}: removed")
    assert os.listdir(spare) == [q2]
    assert os.stat(os.path.join(spare, q2)).st_ino == ino


def test_cleanup_processes_are_shared_past_maxproc(moat_factory, sink):
    """smtpd keeps its cleanup channel across sessions; with cleanup's maxproc
    below the number of smtpd processes the broker shares a cleanup process
    instead of refusing: four concurrent sessions all get 250."""
    import smtplib
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY))
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(relay_master_cf(m).replace("cleanup unix n - y - 0 cleanup",
                                           "cleanup unix n - y - 1 cleanup"))
    m.start()
    conns = [smtplib.SMTP("127.0.0.1", m.port, timeout=30) for _ in range(4)]
    try:
        for i, c in enumerate(conns):
            c.ehlo("client.test.example")
            assert c.mail("a@sender.test")[0] == 250
            assert c.rcpt(f"r{i}@remote.test")[0] == 250
        for i, c in enumerate(conns):
            code, msg = c.data(b"Subject: shared %d\r\n\r\nbody\r\n" % i)
            assert code == 250, (i, code, msg)
    finally:
        for c in conns:
            c.quit()
    got = sink.wait_count(4)
    assert sorted(x.rcpt_tos[0] for x in got) == [f"r{i}@remote.test" for i in range(4)]
