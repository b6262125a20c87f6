"""The SMTP client cannot be aimed inward: addresses from DNS (or from a
recipient's address literal) that are loopback, unspecified, link-local,
multicast or moat's own are never connected to, as Postfix's "mail for X
loops back to myself"; next hops the configuration names stay allowed; a
relayhost that does not resolve defers with 4.3.5."""
import os
import re
import socket

import pytest

from conftest import HOOKS_BUILD, free_port
from mailpeers import Dnsmasq, Netns, RecordingSink
from relayenv import send
from test_smtp import BODY, LINE, start


def idle_listener(addr, port=0):
    """A listening socket nobody accepts on: a connection attempt stays in
    its backlog, so connected() tells whether anything connected at all."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((addr, port))
    s.listen(16)
    s.setblocking(False)
    return s


def connected(listener):
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def dns_conf(dns, port, extra=""):
    return (f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
            f"smtp_tcp_port = {port}\n" + extra)


@pytest.mark.parametrize("addr,dsn,status", [
    ("127.0.0.1", r"5\.4\.6", "bounced"),
    ("0.0.0.0", r"5\.4\.6", "bounced"),
    ("169.254.169.254", r"4\.4\.6", "deferred"),
    ("224.0.0.1", r"4\.4\.6", "deferred"),
    ("255.255.255.255", r"4\.4\.6", "deferred"),
    ("::1", r"5\.4\.6", "bounced"),
    ("::ffff:127.0.0.1", r"5\.4\.6", "bounced"),
    ("fe80::1", r"4\.4\.6", "deferred"),
])
def test_hostile_mx_address_is_never_tried(moat_factory, addr, dsn, status):
    listener = idle_listener("127.0.0.1")
    port = listener.getsockname()[1]
    records = ["--mx-host=evil.test,mx.evil.test,10", f"--host-record=mx.evil.test,{addr}"]
    with Dnsmasq(records) as dns:
        m = start(moat_factory, dns_conf(dns, port, "inet_protocols = all\n"), dns=True)
        qid = send(m, "a@sender.test", ["u@evil.test"], BODY)
        m.wait_log(LINE.format(qid=qid, rcpt="u@evil.test", relay="none", dsn=dsn, status=status)
                   .replace(r"\(.*\)", r"\(mail for evil\.test loops back to myself\)"))
        m.wait_log(rf"warning: {qid}: mail for evil\.test: not connecting to "
                   rf"mx\.evil\.test\[{re.escape(addr)}\]")
    assert "connect to mx.evil.test" not in m.log()
    assert not connected(listener), "smtp connected to the loopback listener"
    listener.close()


def test_hostile_mx_loopback_bounce_reaches_the_sender(moat_factory):
    """The DSN carries the Postfix text; the sender's MX is a real next hop."""
    listener = idle_listener("127.0.0.1")
    with Netns() as ns, RecordingSink(netns=ns, port=listener.getsockname()[1]) as sink:
        records = ["--mx-host=evil.test,mx.evil.test,10", "--host-record=mx.evil.test,127.0.0.1",
                   "--mx-host=sender.test,mx.sender.test,10",
                   f"--host-record=mx.sender.test,{ns.peer_addr}"]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, dns_conf(dns, sink.port), dns=True)
            send(m, "a@sender.test", ["u@evil.test"], BODY)
            (dsn,) = sink.wait_count(1)
    assert dsn.rcpt_tos == ["a@sender.test"]
    assert b"Status: 5.4.6" in dsn.content
    assert b"mail for evil.test loops back to myself" in dsn.content
    assert not connected(listener)
    listener.close()


def test_bad_mx_is_skipped_and_the_good_one_used(moat_factory):
    with Netns() as ns, RecordingSink(netns=ns) as sink:
        records = ["--mx-host=mixed.test,meta.mixed.test,5",
                   "--host-record=meta.mixed.test,169.254.169.254",
                   "--mx-host=mixed.test,mx.mixed.test,10",
                   f"--host-record=mx.mixed.test,{ns.peer_addr}"]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, dns_conf(dns, sink.port), dns=True)
            qid = send(m, "a@sender.test", ["u@mixed.test"], BODY)
            sink.wait_count(1)
            m.wait_log(LINE.format(qid=qid, rcpt="u@mixed.test",
                                   relay=re.escape(f"mx.mixed.test[{ns.peer_addr}]:{sink.port}"),
                                   dsn=r"2\.0\.0", status="sent"))
            assert re.search(r"not connecting to meta\.mixed\.test\[169\.254\.169\.254\]: "
                             r"link-local address", m.log())


@pytest.mark.parametrize("how", ["inet_interfaces", "proxy_interfaces", "master.cf"])
def test_mx_pointing_at_our_own_address_loops_back(moat_factory, how):
    """inet_interfaces = all: the host's veth address is ours; proxy_interfaces:
    an address that forwards to us, here a live server that must get nothing;
    master.cf: an inet service that listens on the host's veth address."""
    with Netns() as ns:
        extra_master = ""
        if how == "inet_interfaces":
            target, conf = ns.host_addr, "inet_interfaces = all\n"
        elif how == "proxy_interfaces":
            target, conf = ns.peer_addr, f"proxy_interfaces = {ns.peer_addr}\n"
        else:
            target, conf = ns.host_addr, ""
            extra_master = f"{ns.host_addr}:{free_port()} inet n - y - 2 smtpd\n"
        listener = ns.run(lambda: idle_listener(target)) if how == "proxy_interfaces" \
            else idle_listener(target)
        records = ["--mx-host=self.test,mx.self.test,10", f"--host-record=mx.self.test,{target}"]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, dns_conf(dns, listener.getsockname()[1], conf), dns=True,
                      master_extra=extra_master)
            qid = send(m, "a@sender.test", ["u@self.test"], BODY)
            m.wait_log(LINE.format(qid=qid, rcpt="u@self.test", relay="none", dsn=r"5\.4\.6",
                                   status="bounced")
                       .replace(r"\(.*\)", r"\(mail for self\.test loops back to myself\)"))
            m.wait_log(rf"not connecting to mx\.self\.test\[{re.escape(target)}\]: own address")
        assert not connected(listener)
        listener.close()


def test_recipient_address_literal_of_link_local_is_refused(moat_factory):
    """smtpd takes u@[127.0.0.1] as local; a cloud metadata address it relays."""
    m = start(moat_factory, "")
    qid = send(m, "a@sender.test", ["u@[169.254.169.254]"], BODY)
    m.wait_log(LINE.format(qid=qid, rcpt=re.escape("u@[169.254.169.254]"), relay="none",
                           dsn=r"4\.4\.6", status="deferred"))
    assert "connect to 169.254.169.254" not in m.log()


def test_configured_next_hop_on_loopback_stays_allowed(moat_factory):
    """relayhost names a host whose address is 127.0.0.1: the administrator
    chose it (a content filter), so it is used."""
    with RecordingSink() as sink:
        records = ["--host-record=filter.internal.test,127.0.0.1"]
        with Dnsmasq(records) as dns:
            m = start(moat_factory, dns_conf(dns, 25) +
                      f"relayhost = [filter.internal.test]:{sink.port}\n", dns=True)
            qid = send(m, "a@sender.test", ["u@remote.test"], BODY)
            sink.wait_count(1)
            m.wait_log(LINE.format(qid=qid, rcpt="u@remote.test",
                                   relay=re.escape(f"filter.internal.test[127.0.0.1]:{sink.port}"),
                                   dsn=r"2\.0\.0", status="sent"))


@pytest.mark.parametrize("relayhost", ["[nowhere.test]", "nowhere.test:2525"])
def test_relayhost_that_does_not_resolve_defers_with_4_3_5(moat_factory, relayhost):
    with Dnsmasq(["--address=/nowhere.test/"]) as dns:
        m = start(moat_factory, dns_conf(dns, 25) + f"relayhost = {relayhost}\n", dns=True)
        qid = send(m, "a@sender.test", ["u@remote.test"], BODY)
        m.wait_log(LINE.format(qid=qid, rcpt="u@remote.test", relay="none", dsn=r"4\.3\.5",
                               status="deferred")
                   .replace(r"\(.*\)", r"\(Host or domain name not found\. .*nowhere\.test.*\)"))
        m.wait_log(rf"warning: {qid}: relayhost configuration problem")
        assert "status=bounced" not in m.log()


def test_landlock_limits_smtp_and_dns_to_their_ports(moat_factory):
    """A confined smtp may connect only to the ports of its configured
    transports (smtp_tcp_port, relayhost's port), dns only to its
    resolvers' ports; a connect elsewhere fails (test build attack hook)."""
    allowed, relay, resolver, other = (idle_listener("127.0.0.1") for _ in range(4))
    pa, pr, pd, po = (s.getsockname()[1] for s in (allowed, relay, resolver, other))
    spec = ",".join([f"smtp:connect:{po}", f"smtp:connect:{pa}", f"smtp:connect:{pr}",
                     f"dns:connect:{po}", f"dns:connect:{pd}"])
    m = moat_factory(build=HOOKS_BUILD, env_extra={"MOAT_TEST_ATTACK": spec},
                     main_cf_extra=f"smtp_tcp_port = {pa}\nrelayhost = [192.0.2.1]:{pr}\n"
                                   f"dns_resolver_address = 127.0.0.1:{pd}\n").start(wait=False)
    for stage, port, outcome in [("smtp", po, "failed: Permission denied"),
                                 ("smtp", pa, "SUCCEEDED"), ("smtp", pr, "SUCCEEDED"),
                                 ("dns", po, "failed: Permission denied"),
                                 ("dns", pd, "SUCCEEDED")]:
        m.wait_log(rf"{stage} pid \d+: test: attack connect:{port}: {outcome}", timeout=20)
    assert not connected(other), "a confined stage reached a port it has no rule for"
    assert connected(allowed) and connected(resolver)
    for s in (allowed, relay, resolver, other):
        s.close()


def test_cleanup_cuts_off_an_smtpd_that_sends_a_crlf_recipient(moat_factory):
    """A compromised smtpd (test build) hands cleanup a recipient holding
    CRLF: cleanup reports the violation and queues nothing."""
    m = moat_factory(build=HOOKS_BUILD,
                     env_extra={"MOAT_TEST_ATTACK": "smtpd:cleanup-bad-rcpt"}).start(wait=False)
    m.wait_log(r"warning: smtpd\[\d+\]: MSG_CLEANUP_RCPT: control character in an address",
               timeout=20)
    assert "attack cleanup-bad-rcpt: SUCCEEDED" not in m.log()
    incoming = os.path.join(m.queue, "incoming")
    assert [f for _, _, fs in os.walk(incoming) for f in fs] == []
