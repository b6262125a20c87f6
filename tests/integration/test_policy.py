"""check_policy_service through the policy stage (Postfix's SMTPD_POLICY_README
protocol): the actions a policy server answers, the request attributes,
connection reuse and smtpd_policy_service_* limits, and hostile servers (one
that hangs, answers garbage, answers a 10 MB line, or closes) that get the
default action and a warning, never a stuck smtpd or a dead policy stage.
Real servers: Debian's postgrey and postfix-policyd-spf-python.
"""
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from mailpeers import RecordingSink, stop_process, wait_port
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf


class PolicyServer:
    """A policy server on 127.0.0.1 (or a unix socket) whose answer for each
    request is answer(attrs) (None: hang up; bytes: sent raw)."""

    def __init__(self, answer, path=None):
        self.answer = answer
        self.requests, self.connections = [], 0
        if path:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.bind(path)
            self.endpoint = f"unix:{path}"
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.endpoint = f"inet:127.0.0.1:{self.sock.getsockname()[1]}"
        self.sock.listen(16)
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.conn, args=(conn,), daemon=True).start()

    def conn(self, c):
        f = c.makefile("rb")
        try:
            while True:
                attrs = {}
                for line in f:
                    if line == b"\n":
                        break
                    k, _, v = line.decode().rstrip("\n").partition("=")
                    attrs[k] = v
                else:
                    return
                self.requests.append(attrs)
                a = self.answer(attrs)
                if a is None:
                    return
                c.sendall(a if isinstance(a, bytes) else f"action={a}\n\n".encode())
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


def by_localpart(attrs):
    local = attrs.get("recipient", "").split("@")[0]
    return {
        "reject": "REJECT go away", "defer": "DEFER try later", "dip": "DEFER_IF_PERMIT grey",
        "numeric": "521 5.7.0 numeric answer", "prepend": "PREPEND X-Policy: seen",
        "discard": "DISCARD", "warn": "WARN odd", "cls": "blocker", "hold": "HOLD",
        "filter": "FILTER smtp:[127.0.0.1]:10025", "list": "reject_non_fqdn_sender permit",
        "redir": "REDIRECT other@r.test", "bcc": "BCC archive@r.test",
    }.get(local, "DUNNO")


@pytest.fixture
def sink():
    with RecordingSink() as s:
        yield s


def start(moat_factory, sink, endpoint, main_cf=""):
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)
                     + f"smtpd_recipient_restrictions = check_policy_service {endpoint}\n"
                     + main_cf)
    with open(f"{m.confdir}/master.cf", "w") as f:
        f.write(relay_master_cf(m))
    return m.start()


def session(m, rcpts, sender="a@known.test", data=None):
    """[(code, text)] of each RCPT (and of DATA's end if data)."""
    out = []
    with smtplib.SMTP("127.0.0.1", m.port, timeout=120) as s:
        s.ehlo("host.test")
        s.mail(sender)
        for r in rcpts:
            code, msg = s.rcpt(r)
            out.append((code, msg.decode()))
        if data is not None:
            code, msg = s.data(data)
            out.append((code, msg.decode()))
    return out


BODY = b"From: a@known.test\r\nSubject: p\r\n\r\nhello\r\n"


def test_actions(moat_factory, sink):
    srv = PolicyServer(by_localpart)
    try:
        m = start(moat_factory, sink, srv.endpoint,
                  "smtpd_restriction_classes = blocker\nblocker = reject\n"
                  "access_map_reject_code = 550\naccess_map_defer_code = 451\n"
                  "smtpd_policy_service_policy_context = ctx1\n")
        got = session(m, ["reject@r.test", "defer@r.test", "dip@r.test", "numeric@r.test",
                          "cls@r.test", "hold@r.test", "filter@r.test", "warn@r.test",
                          "list@r.test", "ok@r.test"])
        assert got[0] == (550, "5.7.1 <reject@r.test>: Recipient address rejected: go away")
        assert got[1] == (451, "4.7.1 <defer@r.test>: Recipient address rejected: try later")
        assert got[2] == (450, "4.7.1 <dip@r.test>: Recipient address rejected: grey")
        assert got[3] == (521, "5.7.0 <numeric@r.test>: Recipient address rejected: "
                               "numeric answer")
        assert got[4] == (554, "5.7.1 <cls@r.test>: Recipient address rejected: Access denied")
        assert got[5][0] == 250, got                     # HOLD: the message is held
        assert got[6] == (451, "4.3.5 Server configuration error")
        assert got[7][0] == 250 and got[8][0] == 250 and got[9][0] == 250, got
        m.wait_log(r": warn: RCPT from unknown\[127\.0\.0\.1\]: odd; from=<a@known\.test> "
                   r"to=<warn@r\.test>")
        m.wait_log(r": hold: RCPT from unknown\[127\.0\.0\.1\]: <hold@r\.test>: Recipient "
                   r"address triggers HOLD action; from=<a@known\.test> to=<hold@r\.test>")
        m.wait_log(r"FILTER is not supported")
        a = srv.requests[0]
        assert a["request"] == "smtpd_access_policy" and a["protocol_state"] == "RCPT", a
        assert a["client_address"] == "127.0.0.1" and a["sender"] == "a@known.test", a
        assert a["recipient"] == "reject@r.test" and a["helo_name"] == "host.test", a
        assert a["policy_context"] == "ctx1" and a["protocol_name"] == "ESMTP", a
        assert srv.connections == 1, srv.connections     # one connection, reused
    finally:
        srv.close()


def test_prepend_and_discard(moat_factory, sink):
    srv = PolicyServer(by_localpart)
    try:
        m = start(moat_factory, sink, srv.endpoint)
        assert session(m, ["discard@r.test"], data=BODY)[-1][0] == 250
        assert session(m, ["prepend@r.test"], data=BODY)[-1][0] == 250
        (msg,) = sink.wait_count(1)
        assert b"\r\nX-Policy: seen\r\n" in msg.content, msg.content
        assert msg.rcpt_tos == ["prepend@r.test"], msg.rcpt_tos
        m.wait_log(r"NOQUEUE: discard: RCPT from unknown\[127\.0\.0\.1\]: <discard@r\.test>: "
                   r"Recipient address triggers DISCARD action; from=<a@known\.test>")
    finally:
        srv.close()


def test_hold_redirect_and_bcc(moat_factory, sink):
    srv = PolicyServer(by_localpart)
    try:
        m = start(moat_factory, sink, srv.endpoint)
        reply = session(m, ["x@r.test", "hold@r.test"], data=BODY)[-1]
        assert reply[0] == 250, reply
        qid = reply[1].split()[-1]
        deadline = time.time() + 30
        while qid not in os.listdir(os.path.join(m.queue, "hold")) and time.time() < deadline:
            time.sleep(0.1)
        assert qid in os.listdir(os.path.join(m.queue, "hold"))
        assert session(m, ["redir@r.test"], data=BODY)[-1][0] == 250
        assert session(m, ["bcc@r.test"], data=BODY)[-1][0] == 250
        got = sink.wait_count(2)
        assert sorted(sorted(g.rcpt_tos) for g in got) == [
            ["archive@r.test", "bcc@r.test"], ["other@r.test"]], [g.rcpt_tos for g in got]
        m.wait_log(r"redirect: RCPT from .*: <redir@r\.test>: Recipient address triggers "
                   r"REDIRECT other@r\.test;")
    finally:
        srv.close()


@pytest.mark.parametrize("answer,why", [
    (lambda a: (time.sleep(30), "OK")[1], "timeout"),
    (lambda a: b"hello\n\n", "malformed answer"),
    (lambda a: b"action=" + b"x" * (10 << 20) + b"\n\n", "answer too long"),
    (lambda a: None, "connection closed"),
    (lambda a: b"action=OK\n\naction=OK\n\n", "more than one answer"),
])
def test_hostile_server_gets_default_action(moat_factory, sink, answer, why):
    srv = PolicyServer(answer)
    try:
        m = start(moat_factory, sink, srv.endpoint,
                  "smtpd_policy_service_timeout = 2s\nsmtpd_policy_service_try_limit = 2\n"
                  "smtpd_policy_service_retry_delay = 0s\n")
        got = session(m, ["x@r.test"])
        assert got == [(451, "4.3.5 <x@r.test>: Recipient address rejected: "
                        "Server configuration problem")], (got, srv.requests, m.log()[-3000:])
        m.wait_log(rf"warning: policy service {srv.endpoint}: {why}")
        m.wait_log(rf"warning: problem talking to server {srv.endpoint}")
        assert len(srv.requests) == 2, srv.requests       # try_limit attempts
        pids = m.stage_pids()
        assert "policy" in pids.values(), pids              # the stage lives on
    finally:
        srv.close()
    good = PolicyServer(lambda a: "OK")
    try:
        m2 = start(moat_factory, sink, good.endpoint,
                   "smtpd_policy_service_default_action = DUNNO\n")
        assert session(m2, ["x@r.test"])[0][0] == 250
    finally:
        good.close()


def test_default_action_dunno_and_dead_server(moat_factory, sink):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                    # nothing listens there
    m = start(moat_factory, sink, f"inet:127.0.0.1:{port}",
              "smtpd_policy_service_default_action = DUNNO\n"
              "smtpd_policy_service_retry_delay = 0s\n")
    assert session(m, ["x@r.test"])[0][0] == 250
    m.wait_log(rf"problem talking to server inet:127\.0\.0\.1:{port}: .*[Cc]onnection refused")


def test_request_limit_unix_socket_and_max_idle(moat_factory, sink):
    d = tempfile.mkdtemp()
    srv = PolicyServer(lambda a: "DUNNO", path=os.path.join(d, "policy.sock"))
    try:
        m = start(moat_factory, sink, srv.endpoint, "smtpd_policy_service_request_limit = 2\n"
                  "smtpd_policy_service_max_idle = 1s\n")
        assert [c for c, _ in session(m, ["a@r.test", "b@r.test", "c@r.test"])] == [250] * 3
        assert srv.connections == 2, srv.connections        # 2 requests per connection
        time.sleep(3)                                       # past max_idle
        assert session(m, ["d@r.test"])[0][0] == 250
        assert srv.connections == 3, srv.connections
    finally:
        srv.close()
        shutil.rmtree(d)


NO_POLICY = "no policy"


@pytest.mark.parametrize("master,main_cf,want", [
    (NO_POLICY, "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:9\n",
     "check_policy_service needs the policy stage"),
    ("",
     "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:9\n"
     "smtpd_policy_service_default_action = FILTER smtp:x\n",
     "smtpd_policy_service_default_action: FILTER is not supported"),
    ("",
     "smtpd_recipient_restrictions = check_policy_service unix:private/policy\n",
     "needs an absolute path"),
])
def test_bad_policy_settings_stop_start_up(moat_factory, master, main_cf, want):
    m = moat_factory(main_cf_extra=main_cf)
    with open(f"{m.confdir}/master.cf", "w") as f:
        text = m.default_master()
        f.write(text.replace("policy unix - - y - 1 policy\n", "") if master == NO_POLICY
                else text)
    m.start(wait=False)
    assert m.proc.wait(timeout=30) != 0
    err = m.read_stderr()
    assert want in err, err


def test_max_ttl_and_try_limit(moat_factory, sink):
    """A connection older than max_ttl is replaced before its next request;
    with try_limit 1 a server that hangs up once gets the default action."""
    seen = []

    def once_closed(attrs):
        seen.append(1)
        return None if len(seen) == 2 else "DUNNO"
    srv = PolicyServer(once_closed)
    try:
        m = start(moat_factory, sink, srv.endpoint, "smtpd_policy_service_max_ttl = 1s\n"
                  "smtpd_policy_service_try_limit = 1\n")
        assert session(m, ["a@r.test"])[0][0] == 250
        time.sleep(2.5)                                     # past max_ttl
        assert session(m, ["b@r.test"])[0][0] == 451        # closed, no second try
        assert srv.connections == 2, srv.connections
        assert session(m, ["c@r.test"])[0][0] == 250
    finally:
        srv.close()


@pytest.fixture
def postgrey():
    """Debian's postgrey on a free loopback port, its database in a temp dir."""
    d = tempfile.mkdtemp()
    os.chmod(d, 0o777)     # postgrey drops to its own user
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(["postgrey", f"--inet=127.0.0.1:{port}", f"--dbdir={d}",
                             "--delay=1", "--max-age=1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, timeout=30)
        yield f"inet:127.0.0.1:{port}"
    finally:
        stop_process(proc)
        shutil.rmtree(d)


def test_postgrey_greylists_then_accepts(moat_factory, sink, postgrey):
    m = start(moat_factory, sink, postgrey)
    code, text = session(m, ["b@r.test"])[0]
    assert code == 450 and text.startswith(
        "4.2.0 <b@r.test>: Recipient address rejected: Greylisted") \
        or (code == 450 and "Greylisted" in text), (code, text)
    time.sleep(3)                                    # past --delay=1
    assert session(m, ["b@r.test"], data=BODY)[-1][0] == 250
    (msg,) = sink.wait_count(1)
    assert b"\r\nX-Greylist: delayed " in msg.content, msg.content


class SpawnServer:
    """What Postfix's spawn(8) does for policyd-spf: each connection runs the
    program with the socket as its stdin and stdout."""

    def __init__(self, argv):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.endpoint = f"inet:127.0.0.1:{self.sock.getsockname()[1]}"
        self.argv, self.procs, self.stop = argv, [], False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.procs.append(subprocess.Popen(self.argv, stdin=c, stdout=c,
                                               stderr=subprocess.DEVNULL))
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()
        for p in self.procs:
            stop_process(p)


def test_policyd_spf_behind_a_spawn_socket(moat_factory, sink):
    """policyd-spf skips SPF (no DNS) for a loopback client, as its default
    skip_addresses say, and answers with a header: it reaches the next hop."""
    srv = SpawnServer(["policyd-spf"])
    try:
        m = start(moat_factory, sink, srv.endpoint)
        assert session(m, ["b@r.test"], data=BODY)[-1][0] == 250
        (msg,) = sink.wait_count(1)
        assert b"\r\nX-Comment: SPF check N/A for local connections - client-ip=127.0.0.1; " \
            b"helo=host.test; envelope-from=a@known.test; receiver=r.test" in msg.content, \
            msg.content
    finally:
        srv.close()
