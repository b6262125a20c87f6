"""The client host name in smtpd: PTR lookup, then the forward check, through
the dns stage, against a real dnsmasq. The name shows in the connect,
client= and disconnect lines and in the Received header at the next hop
only when the forward lookup returns the client's address; anything else,
and any DNS trouble, gives "unknown" without holding the client up. Client
restrictions name the verified client; reject_unknown_client_hostname and
reject_unknown_reverse_client_hostname act on how the lookups ended.

Clients connect from different loopback addresses (127.0.0.x), each with its
own records below.
"""
import os
import re
import signal
import smtplib
import time

import pytest

from mailpeers import Dnsmasq, RecordingSink, free_port_udp
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf, send

BODY = (b"From: a@sender.test\r\nTo: b@remote.test\r\nSubject: ptr\r\n"
        b"Message-ID: <ptr-1@sender.test>\r\n\r\nhello\r\n")

BUDGET = 5.0        # SMTPD_DNS_BUDGET_MS in daemons/smtpd/smtpd_dns.c

RECORDS = [
    # Names not listed here are NXDOMAIN (dnsmasq would say REFUSED otherwise).
    "--local=/in-addr.arpa/", "--local=/ip6.arpa/", "--local=/test.example/",
    # 127.0.0.2: PTR and A agree.
    "--host-record=verified.test.example,127.0.0.2",
    # 127.0.0.3: a PTR name whose A record is another address.
    "--ptr-record=3.0.0.127.in-addr.arpa,liar.test.example",
    "--host-record=liar.test.example,127.0.0.33",
    # 127.0.0.4: no PTR at all (NXDOMAIN).
    # 127.0.0.5: a PTR name that does not exist.
    "--ptr-record=5.0.0.127.in-addr.arpa,noaddr.test.example",
    # 127.0.0.6 and .7: PTR names that are no host names, yet resolve back.
    "--ptr-record=6.0.0.127.in-addr.arpa,bad_name.test.example",
    "--address=/bad_name.test.example/127.0.0.6",
    "--ptr-record=7.0.0.127.in-addr.arpa,host.7",
    "--address=/host.7/127.0.0.7",
    # ::1: PTR and AAAA agree.
    "--host-record=v6.test.example,::1",
]


@pytest.fixture
def sink():
    with RecordingSink() as s:
        yield s


@pytest.fixture
def dns():
    with Dnsmasq(RECORDS, log_queries=True) as d:
        yield d


def start(moat_factory, sink, main_cf="", dns_service=True, smtpd_procs=20, ipv6=False):
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + "smtpd_peername_lookup = yes\n"
                                                 + main_cf))
    master = relay_master_cf(m).replace(" 20 smtpd\n", f" {smtpd_procs} smtpd\n")
    if ipv6:
        master += f"[::1]:{m.port} inet n - y - {smtpd_procs} smtpd\n"
    if not dns_service:
        master = "".join(l for l in master.splitlines(True) if not l.startswith("dns "))
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(master)
    return m.start()


def resolver(d):
    return f"dns_resolver_address = 127.0.0.1:{d.port}\n"


def received(msg):
    """The Received header moat added, unfolded."""
    head = msg.content.split(b"\r\n\r\n")[0].decode()
    m = re.match(r"Received: (.*?)\r\n(?=\S)", head, re.S)
    assert m, head
    return " ".join(m.group(1).split())


def first_reply_time(m, source):
    """Seconds from connect to the reply to the first command (screen greets
    at once; smtpd looks the client up when it takes the client over, before
    it answers), then a polite QUIT."""
    t = time.time()
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30, source_address=(source, 0)) as s:
        s.ehlo("client.test.example")
        took = time.time() - t
        s.noop()
    return took


def test_verified_name_in_logs_and_received_header(moat_factory, sink, dns):
    m = start(moat_factory, sink, resolver(dns))
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, source="127.0.0.2")
    (msg,) = sink.wait_count(1)
    m.wait_log(r": connect from verified\.test\.example\[127\.0\.0\.2\]")
    m.wait_log(rf"{qid}: client=verified\.test\.example\[127\.0\.0\.2\]")
    m.wait_log(r"disconnect from verified\.test\.example\[127\.0\.0\.2\] ehlo=1 mail=1")
    assert received(msg).startswith(
        "from client.test.example (verified.test.example [127.0.0.2]) by mx.test.example"), \
        received(msg)
    q = dns.queries()
    assert ("PTR", "2.0.0.127.in-addr.arpa") in q and ("A", "verified.test.example") in q, q


@pytest.mark.parametrize("source,warning,forward", [
    ("127.0.0.3", r"127\.0\.0\.3: address not listed for hostname liar\.test\.example",
     ("A", "liar.test.example")),
    ("127.0.0.5", r"127\.0\.0\.5: hostname noaddr\.test\.example verification failed: "
                  r"Name or service not known", ("A", "noaddr.test.example")),
])
def test_unconfirmed_ptr_name_is_unknown(moat_factory, sink, dns, source, warning, forward):
    m = start(moat_factory, sink, resolver(dns))
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, source=source)
    (msg,) = sink.wait_count(1)
    m.wait_log(r"warning: " + warning)
    m.wait_log(rf": connect from unknown\[{re.escape(source)}\]")
    m.wait_log(rf"{qid}: client=unknown\[{re.escape(source)}\]")
    assert f"(unknown [{source}])" in received(msg), received(msg)
    assert forward in dns.queries(), dns.queries()


def test_nxdomain_is_unknown(moat_factory, sink, dns):
    m = start(moat_factory, sink, resolver(dns))
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, source="127.0.0.4")
    (msg,) = sink.wait_count(1)
    m.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.4\]")
    assert "(unknown [127.0.0.4])" in received(msg), received(msg)
    q = dns.queries()
    assert ("PTR", "4.0.0.127.in-addr.arpa") in q, q
    assert [x for x in q if x[0] in ("A", "AAAA") and x[1] != "test"] == [], q


@pytest.mark.parametrize("source,name", [("127.0.0.6", "bad_name.test.example"),
                                         ("127.0.0.7", "host.7")])
def test_ptr_name_that_is_no_host_name_is_refused(moat_factory, sink, dns, source, name):
    m = start(moat_factory, sink, resolver(dns))
    send(m, "a@sender.test", ["b@remote.test"], BODY, source=source)
    (msg,) = sink.wait_count(1)
    m.wait_log(rf"warning: {re.escape(source)}: malformed or numeric hostname in PTR record: "
               + re.escape(name))
    m.wait_log(rf": connect from unknown\[{re.escape(source)}\]")
    assert f"(unknown [{source}])" in received(msg), received(msg)
    assert ("A", name) not in dns.queries(), dns.queries()


def test_peername_lookup_off_asks_nothing(moat_factory, sink, dns):
    m = start(moat_factory, sink, resolver(dns) + "smtpd_peername_lookup = no\n")
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, source="127.0.0.2")
    (msg,) = sink.wait_count(1)
    m.wait_log(r": connect from unknown\[127\.0\.0\.2\]")
    m.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.2\]")
    assert "(unknown [127.0.0.2])" in received(msg), received(msg)
    assert [x for x in dns.queries() if x[0] == "PTR"] == [], dns.queries()


def test_ipv6_client_uses_ip6_arpa(moat_factory, sink, dns):
    m = start(moat_factory, sink, resolver(dns) + "inet_protocols = all\n"
              "mynetworks = 127.0.0.0/8 [::1]/128\n", ipv6=True)
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, host="::1")
    (msg,) = sink.wait_count(1)
    m.wait_log(r": connect from v6\.test\.example\[::1\]")
    m.wait_log(rf"{qid}: client=v6\.test\.example\[::1\]")
    assert "(v6.test.example [IPv6:::1])" in received(msg), received(msg)
    assert ("PTR", "1." + "0." * 31 + "ip6.arpa") in dns.queries(), dns.queries()
    assert ("AAAA", "v6.test.example") in dns.queries(), dns.queries()


def test_silent_dns_stage_costs_one_budget_and_late_answers_are_skipped(moat_factory, sink, dns):
    """A dns stage that takes queries but never answers: the client waits
    the budget, no longer, and is "unknown". Its late answer (about
    127.0.0.3) must not name the next client (127.0.0.2)."""
    m = start(moat_factory, sink, resolver(dns), smtpd_procs=1)
    (dns_pid,) = [p for p, s in m.stage_pids().items() if s == "dns"]
    os.kill(dns_pid, signal.SIGSTOP)
    try:
        took = first_reply_time(m, "127.0.0.3")
    finally:
        os.kill(dns_pid, signal.SIGCONT)
    assert BUDGET - 0.5 < took < BUDGET + 2, took
    m.wait_log(r"127\.0\.0\.3: no answer from the dns service about 3\.0\.0\.127\.in-addr\.arpa")
    m.wait_log(r": connect from unknown\[127\.0\.0\.3\]")
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, source="127.0.0.2")
    m.wait_log(rf"{qid}: client=verified\.test\.example\[127\.0\.0\.2\]")


def test_dead_resolver_does_not_stall(moat_factory, sink):
    m = start(moat_factory, sink, f"dns_resolver_address = 127.0.0.1:{free_port_udp()}\n")
    took = first_reply_time(m, "127.0.0.2")
    assert took < BUDGET + 2, took
    m.wait_log(r": connect from unknown\[127\.0\.0\.2\]")
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, source="127.0.0.2")
    sink.wait_count(1)
    m.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.2\]")


def test_no_dns_service_is_unknown_at_once(moat_factory, sink):
    m = start(moat_factory, sink, dns_service=False, smtpd_procs=1)
    assert first_reply_time(m, "127.0.0.2") < 1.5
    assert first_reply_time(m, "127.0.0.2") < 1.5
    qid = send(m, "a@sender.test", ["b@remote.test"], BODY, source="127.0.0.2")
    sink.wait_count(1)
    m.wait_log(rf"{qid}: client=unknown\[127\.0\.0\.2\]")
    assert len(re.findall(r": connect from unknown\[127\.0\.0\.2\]", m.log())) == 3, m.log()
    # the broker's "no" is remembered: one request for three clients, not one each
    assert len(re.findall(r"warning: no channel to dns", m.log())) == 1, m.log()


def rcpt_reply(m, source):
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30, source_address=(source, 0)) as s:
        s.ehlo("client.test.example")
        s.mail("a@sender.test")
        return s.rcpt("b@remote.test")


def test_client_restriction_reject_names_the_verified_client(moat_factory, sink, dns):
    m = start(moat_factory, sink, resolver(dns) + "smtpd_client_restrictions = reject\n")
    code, text = rcpt_reply(m, "127.0.0.2")
    assert (code, text) == (554, b"5.7.1 <verified.test.example[127.0.0.2]>: "
                                 b"Client host rejected: Access denied")
    m.wait_log(r"NOQUEUE: reject: RCPT from verified\.test\.example\[127\.0\.0\.2\]: 554 5\.7\.1 "
               r"<verified\.test\.example\[127\.0\.0\.2\]>: Client host rejected: Access denied; "
               r"from=<a@sender\.test> to=<b@remote\.test> proto=ESMTP helo=<client\.test\.example>")


@pytest.mark.parametrize("restriction,source,want", [
    ("reject_unknown_client_hostname", "127.0.0.2", None),
    ("reject_unknown_client_hostname", "127.0.0.3",
     "550 5.7.25 Client host rejected: cannot find your hostname, [127.0.0.3]"),
    ("reject_unknown_client_hostname", "127.0.0.4",
     "550 5.7.25 Client host rejected: cannot find your hostname, [127.0.0.4]"),
    ("reject_unknown_reverse_client_hostname", "127.0.0.3", None),
    ("reject_unknown_reverse_client_hostname", "127.0.0.6",
     "550 5.7.25 Client host rejected: cannot find your reverse hostname, [127.0.0.6]"),
])
def test_reject_unknown_client(moat_factory, sink, dns, restriction, source, want):
    m = start(moat_factory, sink, resolver(dns) + f"smtpd_client_restrictions = {restriction}\n"
              "unknown_client_reject_code = 550\n")
    code, text = rcpt_reply(m, source)
    if want is None:
        assert code == 250, (code, text)
    else:
        assert f"{code} {text.decode()}" == want


def test_reject_unknown_client_is_450_when_dns_fails_for_now(moat_factory, sink):
    m = start(moat_factory, sink, f"dns_resolver_address = 127.0.0.1:{free_port_udp()}\n"
              "smtpd_client_restrictions = reject_unknown_reverse_client_hostname\n"
              "unknown_client_reject_code = 550\n")
    code, text = rcpt_reply(m, "127.0.0.2")
    assert (code, text) == (450, b"4.7.25 Client host rejected: cannot find your reverse "
                                 b"hostname, [127.0.0.2]")
