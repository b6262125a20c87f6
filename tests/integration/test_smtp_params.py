"""smtp_* parameters of the SMTP client, each set and seen to take effect
against a recording next hop: EHLO or HELO and the name sent, connection
caching, MX ordering, what happens when MX hosts have no address, the
greeting timeout."""
import re
import socket

import pytest

from mailpeers import Dnsmasq, Netns, RecordingSink
from relayenv import send
from test_smtp import BODY, LINE, start


@pytest.mark.parametrize("conf,ident,esmtp", [
    ("", None, True),                                   # default: always EHLO
    ("smtp_always_send_ehlo = no\n", None, False),      # greeting without ESMTP: HELO
    ("smtp_always_send_ehlo = no\n", "ESMTP ready", True),
    ("smtp_never_send_ehlo = yes\n", "ESMTP ready", False),
], ids=["default", "always-no-plain", "always-no-esmtp", "never"])
def test_ehlo_or_helo_and_the_name_sent(moat_factory, conf, ident, esmtp):
    with RecordingSink(ident=ident) as sink:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n"
                                "smtp_helo_name = relay.name.test\n" + conf)
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
    assert msg.esmtp == esmtp
    assert msg.helo == "relay.name.test"


@pytest.mark.parametrize("conf,reused", [
    ("", True),
    ("smtp_connection_cache_on_demand = no\n", False),
    ("smtp_connection_cache_on_demand = no\n"
     "smtp_connection_cache_destinations = [127.0.0.1]:{port}\n", True),
], ids=["on-demand", "off", "off-but-listed"])
def test_connection_cache_on_demand_and_destinations(moat_factory, conf, reused):
    with RecordingSink() as sink:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n"
                                + conf.format(port=sink.port))
        for i in range(3):
            qid = send(m, "a@sender.test", [f"r{i}@remote.test"], BODY)
            m.wait_log(rf"{qid}: removed")
        peers = {msg.peer for msg in sink.wait_count(3)}
    assert (len(peers) < 3) == reused, peers


@pytest.mark.parametrize("conf,dsn,status", [
    ("", r"5\.4\.4", "bounced"),
    ("smtp_defer_if_no_mx_address_found = yes\n", r"4\.4\.4", "deferred"),
])
def test_mx_hosts_without_address(moat_factory, conf, dsn, status):
    records = ["--mx-host=noaddr.test,mx.gone.test,10", "--address=/gone.test/"]
    with Dnsmasq(records) as dns:
        m = start(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                                "relay_domains = noaddr.test\n" + conf, dns=True)
        qid = send(m, "a@sender.test", ["u@noaddr.test"], BODY)
        m.wait_log(LINE.format(qid=qid, rcpt=r"u@noaddr\.test", relay="none", dsn=dsn,
                               status=status))


def test_randomize_addresses_off_keeps_the_dns_order(moat_factory):
    """Two MX hosts of equal preference; the first in DNS order refuses.
    Without shuffling every delivery tries them in the same order."""
    with Netns() as ns, RecordingSink(netns=ns) as sink:
        records = ["--mx-host=eq.test,mxa.eq.test,10", "--mx-host=eq.test,mxb.eq.test,10",
                   f"--host-record=mxa.eq.test,{ns.host_addr}",
                   f"--host-record=mxb.eq.test,{ns.peer_addr}"]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                                    f"smtp_tcp_port = {sink.port}\nrelay_domains = eq.test\n"
                                    "smtp_randomize_addresses = no\n"
                                    "smtp_connection_cache_on_demand = no\n", dns=True)
            for i in range(8):
                qid = send(m, "a@sender.test", [f"u{i}@eq.test"], BODY)
                m.wait_log(rf"{qid}: to=<u{i}@eq\.test>.*status=sent")
            refused = len(re.findall(r"connect to mxa\.eq\.test", m.log()))
            assert refused in (0, 8), m.log()


def test_helo_timeout_on_a_silent_greeting(moat_factory):
    """A server that accepts and never greets: smtp_helo_timeout ends the
    wait, the mail is deferred with Postfix's text."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{port}\nsmtp_helo_timeout = 1s\n")
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
    m.wait_log(LINE.format(qid=qid, rcpt=r"b@remote\.test", relay=r"\S+", dsn=r"4\.4\.2",
                           status="deferred")
               .replace(r"\(.*\)", r"\(conversation with 127\.0\.0\.1\[127\.0\.0\.1\] timed out "
                                   r"while receiving the initial server greeting\)"), timeout=30)
    silent.close()


def test_discarded_ehlo_keyword_is_not_used(moat_factory):
    """smtp_discard_ehlo_keywords = size: no SIZE= on MAIL FROM."""
    with RecordingSink() as sink:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n"
                                "smtp_discard_ehlo_keywords = size\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
    assert not [o for o in msg.mail_options if o.upper().startswith("SIZE=")], msg.mail_options
    with RecordingSink() as sink:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
    assert [o for o in msg.mail_options if o.upper().startswith("SIZE=")], msg.mail_options


class ScriptServer:
    """A scripted SMTP server on loopback: greeting, then for each command
    line the reply from answer(line), or no reply at all (None: it stalls),
    each connection in its own thread."""

    def __init__(self, greeting, answer):
        import threading
        self.greeting, self.answer = greeting, answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stalled = None
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for c in self.conns:
            c.close()

    def serve(self):
        import threading
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.session, args=(c,), daemon=True).start()

    def session(self, c):
        try:
            c.sendall(self.greeting.encode() + b"\r\n")
            f = c.makefile("rb")
            data = False
            for line in f:
                if data:
                    data = line != b".\r\n"
                    if data:
                        continue
                    reply = self.answer(".")
                else:
                    reply = self.answer(line.decode(errors="replace").strip())
                if reply is None:
                    continue
                if reply.startswith("354"):
                    data = True
                c.sendall(reply.encode() + b"\r\n")
                if reply == "354 and stall":
                    self.stalled = c        # read nothing more: the client's writes block
                    return
        except OSError:
            pass


def plain_answer(stall=None):
    def answer(line):
        verb = line.split(" ")[0].split(":")[0].upper()
        if verb == stall or (stall == "." and line == "."):
            return None
        return {"EHLO": "250 server.test", "HELO": "250 server.test", "MAIL": "250 ok",
                "RCPT": "250 ok", "DATA": "354 go", ".": "250 queued", "RSET": "250 ok",
                "QUIT": "221 bye"}.get(verb, "500 what")
    return answer


@pytest.mark.parametrize("param,stall,step", [
    ("smtp_rcpt_timeout", "RCPT", "sending RCPT TO"),
    ("smtp_mail_timeout", "MAIL", "sending MAIL FROM"),
    ("smtp_data_init_timeout", "DATA", "sending DATA"),
    ("smtp_data_done_timeout", ".", "sending end of data -- message may be sent more than once"),
])
def test_command_timeouts(moat_factory, param, stall, step):
    with ScriptServer("220 server.test ESMTP", plain_answer(stall)) as srv:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{srv.port}\n{param} = 1s\n")
        qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
        m.wait_log(LINE.format(qid=qid, rcpt=r"b@remote\.test", relay=r"\S+", dsn=r"4\.4\.2",
                               status="deferred")
                   .replace(r"\(.*\)", r"\(conversation with 127\.0\.0\.1\[127\.0\.0\.1\] "
                                       rf"timed out while {re.escape(step)}\)"), timeout=30)


def test_rset_timeout_on_a_cached_connection(moat_factory):
    """The second message reuses the cached connection and starts with RSET,
    which the server never answers: after smtp_rset_timeout the client gives
    that connection up and delivers on a new one (the default, 20 s, would
    not be over by the time the test stops waiting)."""
    rsets = []

    def answer(line):
        if line.upper() == "RSET":
            rsets.append(line)
            return None
        return plain_answer()(line)
    with ScriptServer("220 server.test ESMTP", answer) as srv:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{srv.port}\n"
                                f"smtp_connection_cache_destinations = [127.0.0.1]:{srv.port}\n"
                                "smtp_rset_timeout = 1s\n")
        for i in range(2):
            qid = send(m, "a@sender.test", [f"b{i}@remote.test"], BODY)
            m.wait_log(rf"{qid}: to=<b{i}@remote\.test>.*status=sent", timeout=10)
        assert rsets == ["RSET"]
        assert len(srv.conns) == 2


@pytest.mark.parametrize("conf,status", [("", "deferred"),
                                         ("smtp_skip_5xx_greeting = no\n", "bounced")])
def test_skip_5xx_greeting(moat_factory, conf, status):
    # a transport next hop, not relayhost: a relayhost that refuses us defers (4.3.5)
    with ScriptServer("554 5.7.1 go away", plain_answer()) as srv:
        m = start(moat_factory, f"default_transport = smtp:[127.0.0.1]:{srv.port}\n" + conf)
        qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
        m.wait_log(rf"{qid}: to=<b@remote\.test>.*status={status} \(host 127\.0\.0\.1"
                   r"\[127\.0\.0\.1\] refused to talk to me: 554 5\.7\.1 go away\)")


def test_mx_address_limit(moat_factory):
    """Three MX hosts that all refuse: only smtp_mx_address_limit are tried."""
    with Netns() as ns:
        records = [f"--mx-host=lim.test,mx{i}.lim.test,{i}" for i in range(3)]
        records += [f"--host-record=mx{i}.lim.test,{ns.host_addr}" for i in range(3)]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                                    "relay_domains = lim.test\nsmtp_mx_address_limit = 2\n",
                      dns=True)
            qid = send(m, "a@sender.test", ["u@lim.test"], BODY)
            m.wait_log(rf"{qid}: to=<u@lim\.test>.*status=deferred")
            tried = re.findall(r"connect to (mx\d)\.lim\.test", m.log())
            assert tried[:2] == ["mx0", "mx1"] and "mx2" not in tried, tried


def test_data_xfer_timeout(moat_factory):
    """A server that stops reading in the middle of the content."""
    def answer(line):
        return "354 and stall" if line.upper() == "DATA" else plain_answer()(line)
    big = BODY + b"x" * 998 + (b"\r\n" + b"y" * 998) * 8000 + b"\r\n"
    with ScriptServer("220 server.test ESMTP", answer) as srv:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{srv.port}\n"
                                "smtp_data_xfer_timeout = 1s\n")
        qid = send(m, "a@sender.test", ["b@remote.test"], big)
        m.wait_log(rf"{qid}: to=<b@remote\.test>.*dsn=4\.4\.2, status=deferred \(conversation "
                   r"with 127\.0\.0\.1\[127\.0\.0\.1\] timed out while sending message body\)",
                   timeout=30)


def test_connect_timeout(moat_factory):
    """A listener whose accept queue is full drops new SYNs: the connect
    hangs until smtp_connect_timeout."""
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    port = full.getsockname()[1]
    fillers = []
    for _ in range(3):                      # fill the accept queue
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", port))
        fillers.append(f)
    m = start(moat_factory, f"relayhost = [127.0.0.1]:{port}\nsmtp_connect_timeout = 1s\n")
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
    m.wait_log(rf"connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Connection timed out",
               timeout=30)
    m.wait_log(rf"{qid}: to=<b@remote\.test>.*status=deferred")
    for f in fillers + [full]:
        f.close()


@pytest.mark.parametrize("pref,v6_first", [("ipv6", True), ("ipv4", False)])
def test_address_preference(moat_factory, pref, v6_first):
    """An MX host with an A and an AAAA record; the server listens on IPv4
    only, so an IPv6 attempt shows up as a refused connect."""
    with Netns() as ns, RecordingSink(netns=ns) as sink:
        records = ["--mx-host=dual.test,mx.dual.test,10",
                   f"--host-record=mx.dual.test,{ns.peer_addr},{ns.peer_addr6}"]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                                    f"smtp_tcp_port = {sink.port}\nrelay_domains = dual.test\n"
                                    f"inet_protocols = all\nsmtp_address_preference = {pref}\n",
                      dns=True)
            qid = send(m, "a@sender.test", ["u@dual.test"], BODY)
            sink.wait_count(1)
            m.wait_log(rf"{qid}: to=<u@dual\.test>, relay=mx\.dual\.test\[{re.escape(ns.peer_addr)}\]"
                       r".*status=sent")
            tried_v6 = f"connect to mx.dual.test[{ns.peer_addr6}]" in m.log()
            assert tried_v6 == v6_first, m.log()
