"""The smtp client stage and the dns stage, end to end: moat relays to a
recording aiosmtpd next hop, found by relayhost or through MX records that a
private dnsmasq serves to the dns stage."""
import os
import re
import smtplib
import socket
import time

import pytest

from conftest import free_port
from mailpeers import Dnsmasq, Netns, RecordingSink
from relayenv import FAST_RETRY, send, strip_received

BODY = (b"From: a@sender.test\r\nTo: b@remote.test\r\nSubject: t\r\n"
        b"Message-ID: <smtp-1@sender.test>\r\n\r\nhello\r\n.dot\r\n")

LINE = (r"{qid}: to=<{rcpt}>, relay={relay}, delay=[0-9.]+, "
        r"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn={dsn}, status={status} \(.*\)")


@pytest.fixture
def sink():
    with RecordingSink() as s:
        yield s


def start(moat_factory, main_cf, dns=False, master_extra=""):
    m = moat_factory(main_cf_extra="mynetworks = 127.0.0.0/8\n" + FAST_RETRY + main_cf)
    master = m.default_master() + "relay unix - - y - 10 smtp\n" + master_extra
    if dns and "\ndns " not in master:
        master += "dns unix - - y - 1 dns\n"
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(master)
    return m.start()


def test_relayhost_delivery_and_log_line(moat_factory, sink):
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n")
    qid = send(m, "a@sender.test", ["b@remote.test", "c@remote.test"], BODY)
    (msg,) = sink.wait_count(1)
    assert msg.rcpt_tos == ["b@remote.test", "c@remote.test"]
    assert msg.content.endswith(b"\r\nhello\r\n.dot\r\n")
    for rcpt in ("b@remote.test", "c@remote.test"):
        m.wait_log(LINE.format(qid=qid, rcpt=re.escape(rcpt),
                               relay=re.escape(f"127.0.0.1[127.0.0.1]:{sink.port}"),
                               dsn=r"2\.0\.0", status="sent"))


def test_connection_reuse(moat_factory, sink):
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n")
    # one after the other: a message that arrives while the previous one is
    # still being delivered rightly gets a second smtp process and connection
    for i in range(3):
        qid = send(m, "a@sender.test", [f"r{i}@remote.test"], BODY)
        m.wait_log(rf"{qid}: removed")
    sink.wait_count(3)
    peers = {msg.peer for msg in sink.messages}
    assert len(peers) < 3, peers


def test_rejected_recipient_bounces_with_remote_reply(moat_factory, sink):
    sink.handler.rcpt_rules = {"nobody@remote.test": (550, "5.1.1 no such user")}
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n")
    qid = send(m, "a@sender.test", ["nobody@remote.test", "ok@remote.test"], BODY)
    m.wait_log(LINE.format(qid=qid, rcpt="nobody@remote.test", relay=r"\S+", dsn=r"5\.1\.1",
                           status="bounced")
               .replace(r"\(.*\)", r"\(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 "
                                   r"no such user \(in reply to RCPT TO command\)\)"))
    m.wait_log(LINE.format(qid=qid, rcpt="ok@remote.test", relay=r"\S+", dsn=r"2\.0\.0",
                           status="sent"))


def test_connection_refused_defers(moat_factory):
    port = free_port()
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{port}\n")
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
    m.wait_log(rf"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Connection refused")
    m.wait_log(LINE.format(qid=qid, rcpt="b@remote.test", relay="none", dsn=r"4\.4\.1",
                           status="deferred"))


def test_mx_lookup_through_the_dns_stage(moat_factory):
    # the MX host is in a network namespace of its own: moat's smtp refuses
    # loopback addresses that come from DNS
    with Netns() as ns, RecordingSink(netns=ns) as sink:
        records = ["--mx-host=example.test,mx1.example.test,10",
                   "--mx-host=example.test,mx0.example.test,5",
                   f"--host-record=mx1.example.test,{ns.peer_addr}",
                   "--address=/nowhere.test/"]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                                    f"smtp_tcp_port = {sink.port}\n"
                                    "relay_domains = example.test, nowhere.test\n", dns=True)
            qid = send(m, "a@sender.test", ["u@example.test"], BODY)
            (msg,) = sink.wait_count(1)
            assert msg.rcpt_tos == ["u@example.test"]
            m.wait_log(LINE.format(qid=qid, rcpt="u@example.test",
                                   relay=re.escape(f"mx1.example.test[{ns.peer_addr}]:{sink.port}"),
                                   dsn=r"2\.0\.0", status="sent"))
            qid = send(m, "a@sender.test", ["u@nowhere.test"], BODY)
            m.wait_log(LINE.format(qid=qid, rcpt="u@nowhere.test", relay="none", dsn=r"5\.1\.2",
                                   status="bounced"))


def craft_deferred(m, old, new):
    """Stop moat, then replace bytes in its one deferred queue file (a
    record's length is unchanged: len(old) == len(new))."""
    assert len(old) == len(new)
    d = os.path.join(m.queue, "deferred")

    def deferred_files():
        return [os.path.join(root, f) for root, _, fs in os.walk(d) for f in fs]
    # the last recipient's log line comes before qmgr moves the file there
    deadline = time.time() + 30
    while not deferred_files() and time.time() < deadline:
        time.sleep(0.05)
    m.stop()
    files = deferred_files()
    assert len(files) == 1, files
    with open(files[0], "r+b") as f:
        data = f.read()
        assert old in data
        f.seek(0)
        f.write(data.replace(old, new))


@pytest.mark.parametrize("field", ["recipient", "sender"])
def test_control_characters_from_the_queue_file_are_never_sent(moat_factory, sink, field):
    """A queue file whose address holds CRLF (written past cleanup's checks)
    must not smuggle a command to the next hop."""
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{free_port()}\n")
    qid = send(m, "a@sender.test", ["u1@remote.test", "ok@remote.test"], BODY)
    m.wait_log(rf"{qid}: to=<ok@remote\.test>.*status=deferred")
    if field == "recipient":
        craft_deferred(m, b"u1@remote.test", b"u1@re\r\nQUIT\r\nt")
    else:
        craft_deferred(m, b"a@sender.test", b"a@se\r\nRSET\r\nt")
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"relayhost = [127.0.0.1]:{sink.port}\n")
    m.start()
    if field == "recipient":
        m.wait_log(LINE.format(qid=qid, rcpt=re.escape("u1@re??QUIT??t"), relay="none",
                               dsn=r"5\.1\.3", status="bounced"))
        m.wait_log(rf"{qid}: to=<ok@remote\.test>.*status=sent")
        # the message, and (maybe already) the DSN of the bounced recipient
        msgs = [x for x in sink.wait_count(1) if x.mail_from == "a@sender.test"]
        assert [x.rcpt_tos for x in msgs] == [["ok@remote.test"]]
    else:
        m.wait_log(rf"warning: {qid}: control character in the sender address")
        m.wait_log(LINE.format(qid=qid, rcpt=r"ok@remote\.test", relay="none", dsn=r"4\.3\.0",
                               status="deferred"))
        assert sink.messages == []


@pytest.mark.parametrize("first", ["dead", "silent"])
def test_second_nameserver_answers_when_the_first_is_dead_or_silent(moat_factory, first):
    """dns_resolver_address is a list: a first nameserver that answers with
    ICMP port unreachable (dead) or never answers (silent) must not defer
    mail; the one that answered is asked first from then on."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    bad_port = silent.getsockname()[1]
    if first == "dead":
        silent.close()          # nothing listens: the kernel answers ICMP unreachable
    with Netns() as ns, RecordingSink(netns=ns) as sink:
        records = ["--mx-host=example.test,mx1.example.test,10",
                   f"--host-record=mx1.example.test,{ns.peer_addr}",
                   "--mx-host=other.test,mx1.example.test,10"]
        with Dnsmasq(records, log_queries=True) as dns:
            m = start(moat_factory,
                      f"dns_resolver_address = 127.0.0.1:{bad_port}, 127.0.0.1:{dns.port}\n"
                      f"smtp_tcp_port = {sink.port}\nrelay_domains = example.test, other.test\n",
                      dns=True)
            m.wait_log(rf"resolver 127\.0\.0\.1:{bad_port}, 127\.0\.0\.1:{dns.port} ")
            qid = send(m, "a@sender.test", ["u@example.test"], BODY)
            sink.wait_count(1)
            m.wait_log(LINE.format(qid=qid, rcpt="u@example.test", relay=r"\S+", dsn=r"2\.0\.0",
                                   status="sent"))
            why = "Connection refused" if first == "dead" else "timeout"
            m.wait_log(rf"query example\.test.* to 127\.0\.0\.1:{bad_port}: {why}")
            # the next lookups go straight to the nameserver that answers
            before = len(re.findall(rf"to 127\.0\.0\.1:{bad_port}", m.log()))
            qid = send(m, "a@sender.test", ["u@other.test"], BODY)
            sink.wait_count(2)
            m.wait_log(rf"{qid}: to=<u@other\.test>.*status=sent")
            assert len(re.findall(rf"to 127\.0\.0\.1:{bad_port}", m.log())) == before
    silent.close()


def fold_lines(content, limit):
    """Postfix's smtp_line_length_limit rule: a line longer than limit is
    broken with CRLF SPACE, the continuation holding limit - 1 octets. moat
    counts the line as it goes on the wire: a dot-stuffed line's extra dot
    counts too."""
    out = []
    for line in content.split(b"\r\n"):
        cut = limit - line.startswith(b".")
        first, rest = line[:cut], line[cut:]
        out.append(first)
        while rest:
            out.append(b" " + rest[:limit - 1])
            rest = rest[limit - 1:]
    return b"\r\n".join(out)


@pytest.mark.parametrize("limit", [None, 100, 0])
def test_long_lines_are_folded_before_the_next_hop(moat_factory, sink, limit):
    """Seen: a 5,000-octet line and a 1 MB line relayed whole."""
    long_header = b"X-Long: " + b"h" * 4992
    body = (b"From: a@sender.test\r\nSubject: long\r\nMessage-ID: <long@sender.test>\r\n"
            b"Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n" + long_header + b"\r\n\r\n"
            + b"b" * 5000 + b"\r\n.starts with a dot " + b"d" * 2000 + b"\r\n"
            + b"m" * (1024 * 1024) + b"\r\nend\r\n")
    extra = "" if limit is None else f"smtp_line_length_limit = {limit}\n"
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n" + extra)
    qid = send(m, "a@sender.test", ["b@remote.test"], body)
    if limit == 0:
        # never folded: the line goes whole, and aiosmtpd keeps RFC 5321's limit
        m.wait_log(rf"{qid}: to=<b@remote\.test>.*status=bounced .*500 Line too long", 60)
        return
    (msg,) = sink.wait_count(1, timeout=60)
    got = strip_received(msg.content)
    n = limit or 998
    want = fold_lines(body, n)
    at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), None)
    assert got == want, (len(got), len(want), at, got[at - 20:at + 20] if at else None)
    assert max(len(line) for line in msg.content.split(b"\r\n")) <= n


def send_utf8(m, sender, rcpt, body):
    """One message with MAIL FROM ... SMTPUTF8; the queue id."""
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
        s.ehlo("client.test.example")
        code, _ = s.mail(sender, ["SMTPUTF8"])
        assert code == 250
        code, _ = s.rcpt(rcpt)
        assert code == 250
        code, msg = s.data(body)
        assert code == 250, msg
        return re.search(rb"queued as (\S+)", msg).group(1).decode()


UTF8_HDR = "From: a@sender.test\r\nSubject: h\u00e9llo\r\nMessage-ID: <u@sender.test>\r\n\r\nbody\r\n"


@pytest.mark.parametrize("offered,sender,body,want", [
    (True, "\u00fcser@sender.test", UTF8_HDR, "sent"),
    (False, "\u00fcser@sender.test", BODY.decode(), "bounced"),
    (False, "a@sender.test", UTF8_HDR, "bounced"),
    (False, "a@sender.test", BODY.decode(), "sent"),
], ids=["offered", "utf8-sender", "utf8-header", "ascii-only"])
def test_smtputf8_is_relayed_when_offered_else_bounced_only_when_needed(
        moat_factory, offered, sender, body, want):
    with RecordingSink(smtputf8=offered) as sink:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n")
        qid = send_utf8(m, sender, "b@remote.test", body.encode())
        if want == "sent":
            (msg,) = sink.wait_count(1)
            assert ("SMTPUTF8" in msg.mail_options) == offered
            assert msg.mail_from == sender
            m.wait_log(rf"{qid}: to=<b@remote\.test>.*dsn=2\.0\.0, status=sent")
        else:
            m.wait_log(LINE.format(qid=qid, rcpt=r"b@remote\.test", relay=r"\S+", dsn=r"5\.6\.7",
                                   status="bounced")
                       .replace(r"\(.*\)", r"\(SMTPUTF8 is required, but was not offered by "
                                           r"host 127\.0\.0\.1\[127\.0\.0\.1\]\)"))
            # the message itself never reached the next hop (a DSN may)
            assert not [x for x in sink.messages if x.mail_from == sender]
