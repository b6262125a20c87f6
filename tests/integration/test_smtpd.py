"""smtpd: the SMTP server stage, driven over loopback by raw sockets and smtplib.

Greeting, EHLO keywords, sequencing, HELO required, long lines, NUL,
pipelining refused without EHLO, pregreet, relay control from a client
outside mynetworks (mynetworks = 10.0.0.0/8), address tricks, local
delivery refused, size limit, DATA smuggling variants, logging.
Tests that need a 250 after DATA skip while cleanup cannot queue.
"""
import os
import re
import signal
import smtplib
import socket
import time

import pytest

from conftest import BUILD

MASTER = ("{port} inet n - y - 4 smtpd\n"
          "cleanup unix n - y - 4 cleanup\n"
          "log unix - - y - 1 log\n")

BASE = ("smtpd_error_sleep_time = 0\n"
        "relay_domains = relay.example\n")


def start(moat_factory, extra="", mynetworks="10.0.0.0/8"):
    m = moat_factory(main_cf_extra=BASE + f"mynetworks = {mynetworks}\n" + extra,
                     master_cf=None)
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(MASTER.format(port=f"127.0.0.1:{m.port}"))
    m.start()
    return m


class Client:
    def __init__(self, port, greet=True):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        if greet:
            self.greeting = self.reply()

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def reply_lines(self):
        """One complete (possibly multi-line) reply, as its raw lines."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError(b"".join(lines) + self.buf)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def reply(self):
        """One complete (possibly multi-line) reply: (code, text)."""
        lines = self.reply_lines()
        return int(lines[-1][:3]), b"\n".join(l[4:] for l in lines).decode("utf-8", "replace")

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True

    def close(self):
        self.s.close()


def dialog(c, steps):
    """Send each command and check the reply code (int) or the whole reply (tuple)."""
    for line, want in steps:
        got = c.cmd(line)
        assert (got[0] if isinstance(want, int) else got) == want, (line, got)


def open_mail(m, helo="EHLO client.example", sender="s@b.example"):
    """A client past EHLO and MAIL FROM."""
    c = Client(m.port)
    c.cmd(helo)
    assert c.cmd(f"MAIL FROM:<{sender}>")[0] == 250
    return c


@pytest.fixture
def m(moat_factory):
    return start(moat_factory)


def cleanup_works(m):
    c = Client(m.port)
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<a@b.example>")
    code, _ = c.cmd("RCPT TO:<x@relay.example>")
    c.cmd("QUIT")
    c.close()
    return code == 250


def test_greeting_and_ehlo_keywords(m):
    c = Client(m.port)
    assert c.greeting[0] == 220
    assert "mx.test.example ESMTP" in c.greeting[1]
    code, text = c.cmd("EHLO client.example")
    assert code == 250
    kws = text.split("\n")[1:]
    assert kws == ["PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
    assert c.cmd("NOOP") == (250, "2.0.0 Ok")
    assert c.cmd("QUIT")[0] == 221
    assert c.closed()
    m.wait_log(r"connect from unknown\[127\.0\.0\.1\]")
    m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 noop=1 quit=1 commands=3")


def test_sequencing_and_helo_required(m):
    c = Client(m.port)
    dialog(c, [
        ("MAIL FROM:<a@b.example>", 503), ("RCPT TO:<a@b.example>", 503), ("DATA", 503),
        ("HELO client.example", 250),
        ("RCPT TO:<a@relay.example>", (503, "5.5.1 Error: need MAIL command")),
        ("MAIL FROM:<a@b.example>", 250),
        ("MAIL FROM:<a@b.example>", (503, "5.5.1 Error: nested MAIL command")),
        ("DATA", (503, "5.5.1 Error: need RCPT command")),
        ("RSET", 250), ("FOO", 502), ("VRFY root", 502), ("EXPN staff", 502), ("HELO", 501),
    ])
    c.close()


def test_strict_envelope_syntax(m):
    c = Client(m.port)
    c.cmd("EHLO client.example")
    dom251 = ".".join(x * 60 for x in "bcde") + ".example"
    dialog(c, [
        ("MAIL FROM:a@b.example", 501),
        ("MAIL FROM:<a@b.example> BOGUS=1", 555),
        ("MAIL FROM:<a@b.example> SIZE=20000000", 552),
        ("MAIL FROM:<" + "a" * 65 + "@b.example>", 501),
        (f"MAIL FROM:<a@{dom251}>", 250),           # 255 octets: allowed
        ("RSET", 250),
        (f"MAIL FROM:<abc@{dom251}>", 501),         # 257 octets
        ("MAIL FROM:<\u00e9@b.example>", 553),
        ("MAIL FROM:<> SIZE=100 BODY=8BITMIME SMTPUTF8", 250),
        ("RCPT TO:<>", 501),
        ("RCPT TO:<a@b.example> NOTIFY=NEVER", 555),
    ])
    c.close()


def test_long_lines_and_nul(m):
    c = Client(m.port)
    c.cmd("EHLO client.example")
    # 512 octets with CRLF is fine, 513 is not.
    ok = "NOOP " + "x" * (512 - 5 - 2)
    assert c.cmd(ok)[0] == 250
    assert c.cmd(ok + "x") == (500, "5.5.2 Error: line too long")
    assert c.cmd("NOOP " + "x" * 100000)[0] == 500
    # MAIL may exceed 512 only by its parameters.
    local = "a" * 60
    dom = ".".join(["d" * 60] * 3) + ".example"
    mail = f"MAIL FROM:<{local}@{dom}>"
    pad = 512 - len(mail) - 2
    assert pad >= 0
    line = mail + " " * 0
    assert c.cmd(line + " SIZE=1000 BODY=8BITMIME SMTPUTF8")[0] == 250
    c.cmd("RSET")
    assert c.cmd("NOOP \x00 x")[0] == 500
    assert c.cmd("NOOP")[0] == 250
    c.close()


def test_mail_line_extension_bound(m):
    c = Client(m.port)
    c.cmd("EHLO client.example")
    path = "<" + "a" * 64 + "@" + ".".join(["b" * 63] * 2) + ".example.com>"
    base = "MAIL FROM:" + path
    base += " " * 0
    # pad the path part with a longer domain to exactly 510 octets before params
    dom_extra = 510 - len(base)
    assert dom_extra > 0
    path = "<" + "a" * 64 + "@" + ".".join(["b" * 63] * 2) + "." + "c" * (dom_extra - 1) \
        + ".example.com>"
    base = "MAIL FROM:" + path
    if len(path) <= 256:
        assert c.cmd(base + " SIZE=10 BODY=8BITMIME SMTPUTF8")[0] == 250
        c.cmd("RSET")
        # parameters that no extension allows for push it over
        assert c.cmd(base + " SIZE=10 BODY=8BITMIME SMTPUTF8 " + "X" * 40)[0] == 500
    c.close()


def test_pipelining_refused_without_ehlo(m):
    c = Client(m.port)
    c.send("HELO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@relay.example>\r\n")
    code, text = c.reply()
    assert code == 554 and "5.5.0" in text
    assert c.closed()
    m.wait_log(r"improper command pipelining after HELO from unknown\[127\.0\.0\.1\]")


def test_pipelining_after_ehlo_allowed_but_not_past_data(m):
    c = Client(m.port)
    c.cmd("EHLO client.example")
    c.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<x@other.example>\r\nRSET\r\nNOOP\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 554        # relay refused (client outside mynetworks)
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    c.send("EHLO again.example\r\nNOOP\r\n")
    assert c.reply()[0] == 554
    assert c.closed()


def test_pregreet(m):
    # screen accepts at once; stopped, it leaves B in the listen queue with
    # B's input already waiting, as a busy server would
    screen = [p for p, st in m.stage_pids().items() if st == "screen"]
    assert len(screen) == 1
    os.kill(screen[0], signal.SIGSTOP)
    try:
        s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        s.sendall(b"EHLO early.example\r\n")
        time.sleep(0.2)
    finally:
        os.kill(screen[0], signal.SIGCONT)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data.startswith(b"554 5.5.1"), data
    s.close()
    m.wait_log(r"pregreet: .*EHLO early\.example.* from unknown\[127\.0\.0\.1\]")
    m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] commands=0/0")


RELAY_CASES = [
    ("x@other.example", 554),                       # plain relay attempt
    ("x%other.example@relay.example", 554),         # percent hack
    ("other.example!x@relay.example", 554),         # bang path
    ('"x@other.example"@relay.example', 554),       # quoted @
    ("@relay.example:x@other.example", 554),        # source route
    ("x@[192.0.2.1]", 554),                         # foreign address literal
    ("x@relay.example", None),                      # allowed: relay_domains
    ("x@sub.relay.example", None),                  # parent domain matches subdomains
]


REJECT_RELAY = "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"


@pytest.mark.parametrize("rcpt,want", RELAY_CASES)
def test_relay_control_untrusted(moat_factory, rcpt, want):
    m = start(moat_factory, extra=REJECT_RELAY)
    c = open_mail(m)
    code, text = c.cmd(f"RCPT TO:<{rcpt}>")
    logged = rcpt.split(":", 1)[1] if rcpt.startswith("@") else rcpt   # route stripped
    if want:
        assert code == want, text
        assert "5.7.1" in text and "Relay access denied" in text
        m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 <"
                   + re.escape(logged) + r">: Relay access denied; from=<s@b\.example> to=<"
                   + re.escape(logged) + r"> proto=ESMTP helo=<client\.example>")
    else:
        assert code != 554, text
    c.close()


def test_relay_trusted_client_and_tricks_to_local(moat_factory):
    m = start(moat_factory, mynetworks="127.0.0.0/8")
    c = open_mail(m)
    # trusted: relaying anywhere passes the relay check (cleanup may still fail: 451)
    assert c.cmd("RCPT TO:<x@other.example>")[0] in (250, 451)
    # but a trick toward this host is local delivery: refused
    code, text = c.cmd("RCPT TO:<x%other.example@mx.test.example>")
    assert code == 550 and "local delivery is not supported" in text
    c.close()


def test_default_config_is_not_open_relay(moat_factory):
    m = moat_factory(main_cf_extra="smtpd_error_sleep_time = 0\n", master_cf=None)
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(MASTER.format(port=f"127.0.0.1:{m.port}"))
    m.start()
    # default mynetworks_style = host trusts 127.0.0.1; so only check the refusal
    # for address literals of other hosts and tricks reaches local delivery.
    c = open_mail(m)
    code, text = c.cmd("RCPT TO:<postmaster>")
    assert code == 550
    c.close()


@pytest.mark.parametrize("rcpt", ["root@mx.test.example", "root@localhost", "postmaster",
                                  "root@[127.0.0.1]"])
def test_local_delivery_refused(m, rcpt):
    c = open_mail(m)
    code, text = c.cmd(f"RCPT TO:<{rcpt}>")
    assert code == 550, text
    assert text == f"5.1.1 <{rcpt}>: Recipient address rejected: local delivery is not supported by moat"


@pytest.mark.parametrize("rcpt", ["x@elsewhere.example", "x%y.example@relay.example",
                                  "@relay.example:x@y.example", "x@[192.0.2.1]"])
def test_reject_unauth_destination_default(m, rcpt):
    # moat's default relay restrictions end in reject_unauth_destination
    # (Postfix's in defer_unauth_destination): a permanent 554 5.7.1
    c = open_mail(m)
    code, text = c.cmd(f"RCPT TO:<{rcpt}>")
    assert (code, text) == (554, f"5.7.1 <{rcpt if rcpt[0] != '@' else 'x@y.example'}>: Relay access denied")


def test_restriction_lists(moat_factory):
    m = start(moat_factory, extra=(
        "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
        "smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_non_fqdn_sender,"
        " reject_non_fqdn_helo_hostname\n"))
    c = open_mail(m)
    assert c.cmd("RCPT TO:<x@elsewhere.example>")[0] == 554
    c.cmd("RSET")
    c.cmd("EHLO nodots")
    c.cmd("MAIL FROM:<s@b.example>")
    code, text = c.cmd("RCPT TO:<x@relay.example>")
    assert code == 504 and "Helo command rejected: need fully-qualified hostname" in text
    c.close()


def test_error_limit(moat_factory):
    m = start(moat_factory, extra="smtpd_hard_error_limit = 3\n")
    c = Client(m.port)
    c.cmd("EHLO client.example")
    for _ in range(3):
        assert c.cmd("BOGUS")[0] == 502
    code, text = c.reply()
    assert code == 421 and "too many errors" in text
    assert c.closed()


def test_timeout(moat_factory):
    m = start(moat_factory, extra="smtpd_timeout = 2s\n")
    c = open_mail(m)
    code, text = c.reply()
    assert code == 421
    m.wait_log(r"timeout after MAIL from unknown\[127\.0\.0\.1\]")


SMUGGLE = [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r\r\n", b"\r\n.\x00\r\n"]


def data_client(moat_factory, extra=""):
    """moat with cleanup working, and a trusted client that just got 354."""
    m = start(moat_factory, extra=extra, mynetworks="127.0.0.0/8")
    if not cleanup_works(m):
        pytest.skip("cleanup cannot open a message yet")
    c = open_mail(m)
    assert c.cmd("RCPT TO:<x@relay.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    return m, c


def queue_files(m):
    out = []
    for root, _, files in os.walk(m.queue):
        for f in files:
            if not os.path.isfile(os.path.join(root, f)) or "/pid" in root:
                continue
            with open(os.path.join(root, f), "rb") as fh:
                data = fh.read()
            if b"Subject: t" in data:
                out.append(data)
    return out


@pytest.mark.parametrize("bogus", SMUGGLE)
def test_data_smuggling_is_content(moat_factory, bogus):
    m, c = data_client(moat_factory)
    c.send(b"Subject: t\r\n\r\nbody" + bogus
           + b"MAIL FROM:<evil@b.example>\r\nRCPT TO:<y@relay.example>\r\nDATA\r\nsmuggled\r\n"
           + b"\r\n.\r\n")
    code, text = c.reply()
    assert code == 250, text
    assert c.cmd("NOOP") == (250, "2.0.0 Ok")     # no reply to a smuggled command came first
    c.cmd("QUIT")
    files = queue_files(m)
    assert len(files) == 1
    assert b"MAIL FROM:<evil@b.example>" in files[0] and b"smuggled" in files[0]
    assert b"\r\n.\r\n" not in files[0]


def test_data_size_limit(moat_factory):
    m, c = data_client(moat_factory, extra="message_size_limit = 1000\n")
    c.send(b"x" * 5000 + b"\r\n.\r\n")
    code, text = c.reply()
    assert code == 552 and text.startswith("5.3.4")
    assert c.cmd("NOOP")[0] == 250


def test_lost_connection_mid_data(moat_factory):
    m, c = data_client(moat_factory)
    c.send(b"Subject: half\r\n\r\nhalf a message")
    c.close()
    m.wait_log(r"lost connection after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.1\]")


def test_smtplib_full_message(moat_factory):
    m = start(moat_factory, mynetworks="127.0.0.0/8")
    if not cleanup_works(m):
        pytest.skip("cleanup cannot open a message yet")
    with smtplib.SMTP("127.0.0.1", m.port, timeout=10) as s:
        s.ehlo("client.example")
        r = s.sendmail("s@b.example", ["x@relay.example"], b"Subject: hi\r\n\r\n.dot\r\nbye\r\n")
        assert r == {}
    m.wait_log(r"[0-9A-Za-z]+: client=unknown\[127\.0\.0\.1\]")
