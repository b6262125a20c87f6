"""DANE (RFC 7672) in the smtp client: smtp_dns_support_level = dnssec,
smtp_tls_security_level = dane / dane-only, smtp_tls_dane_insecure_mx_policy
and tls_dane_digests, against a real STARTTLS next hop (aiosmtpd with Python
ssl, in a network namespace of its own so that its address comes from DNS)
and a DNS server of the test's own (dnssecsrv.py) that serves MX, A and TLSA
records and sets the AD bit for the names it calls signed, as a local
validating resolver does. Each downgrade rule is checked by what reaches the
next hop: delivered with "Verified", delivered without DANE, or deferred
with Postfix's reason and nothing delivered."""
import hashlib
import os
import re
import ssl
import subprocess

import pytest

from dnssecsrv import DnssecServer, rdata_a, rdata_mx, rdata_tlsa
from mailpeers import Netns, RecordingSink
from relayenv import send
from test_lookup import start_fails
from test_smtp import BODY, LINE, start

HOOKS_BUILD = os.environ.get("MOAT_HOOKS_BUILD")
DOMAIN = "dane.test"
MX = "mx.dane.test"


def openssl(*args, cwd):
    return subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True).stdout


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA; server certificates signed by it for the MX host, for the
    next-hop domain and for an unrelated name; each with its chain file
    (certificate, then the CA: DANE-TA needs the CA in the chain)."""
    d = tmp_path_factory.mktemp("danepki")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", "/CN=moat dane test CA", "-keyout", "ca.key", "-out", "ca.pem",
            cwd=d)
    for name in (MX, DOMAIN, "elsewhere.test"):
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        (d / "ext").write_text(f"subjectAltName=DNS:{name}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", f"{name}.pem", cwd=d)
        (d / f"{name}.chain").write_bytes((d / f"{name}.pem").read_bytes()
                                          + (d / "ca.pem").read_bytes())
    return d


def der_cert(pki, name):
    return openssl("x509", "-in", f"{name}.pem", "-outform", "DER", cwd=pki)


def der_spki(pki, name):
    pem = openssl("x509", "-in", f"{name}.pem", "-noout", "-pubkey", cwd=pki)
    return subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem,
                          check=True, capture_output=True).stdout


def sha256(b):
    return hashlib.sha256(b).digest()


def ee_311(pki, name=MX):
    return rdata_tlsa(3, 1, 1, sha256(der_spki(pki, name)))


def server_ctx(pki, name=MX):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / f"{name}.chain", pki / f"{name}.key")
    return ctx


class Site:
    """dane.test MX mx.dane.test, its A record the sink's address in a
    namespace, TLSA records at _port._tcp.mx.dane.test; moat relays
    dane.test mail there with the given TLS settings."""

    def __init__(self, moat_factory, pki, tlsa=(), secure=None, conf="", cert=MX, tls=True,
                 servfail=(), build=None, env=None):
        self.ns = Netns()
        self.ns.__enter__()
        try:
            self.sink = RecordingSink(netns=self.ns, tls_context=server_ctx(pki, cert)
                                      if tls else None).__enter__()
        except BaseException:
            self.ns.__exit__()
            raise
        self.tlsa_name = f"_{self.sink.port}._tcp.{MX}"
        records = {(DOMAIN, "MX"): [rdata_mx(10, MX)],
                   (MX, "A"): [rdata_a(self.ns.peer_addr)],
                   (self.tlsa_name, "TLSA"): list(tlsa)}
        self.dns = DnssecServer(records, secure=(DOMAIN, MX, self.tlsa_name) if secure is None
                                else secure, servfail=servfail).__enter__()
        kw = {}
        if build:
            kw = {"build": build, "env_extra": env or {}}
        self.m = start(_factory(moat_factory, **kw),
                       f"dns_resolver_address = 127.0.0.1:{self.dns.port}\n"
                       f"smtp_tcp_port = {self.sink.port}\nrelay_domains = {DOMAIN}\n"
                       "smtp_dns_support_level = dnssec\nsmtp_tls_loglevel = 1\n"
                       + conf.replace("{dnsport}", str(self.dns.port)),
                       dns=True)
        self.relay = re.escape(f"{MX}[{self.ns.peer_addr}]:{self.sink.port}")

    def close(self):
        self.m.stop()
        self.dns.__exit__()
        self.sink.__exit__()
        self.ns.__exit__()

    def send(self):
        return send(self.m, "a@sender.test", [f"u@{DOMAIN}"], BODY)

    def delivered(self, word):
        """One message over TLS, and the summary line names it word."""
        (msg,) = self.sink.wait_count(1)
        assert msg.tls, "delivered over TLS"
        self.m.wait_log(rf"{word} TLS connection established to {self.relay}: TLSv1\.3 ")
        return msg

    def deferred(self, qid, reason, relay=None):
        self.m.wait_log(LINE.format(qid=qid, rcpt=re.escape(f"u@{DOMAIN}"),
                                    relay=relay or ".*", dsn=r"4\.7\.[0-9]", status="deferred")
                        .replace(r"\(.*\)", r"\(" + reason + r"\)"))
        assert self.sink.messages == []


def _factory(moat_factory, **kw):
    def make(**more):
        return moat_factory(**kw, **more)
    return make


@pytest.fixture
def site(moat_factory, pki):
    made = []

    def make(**kw):
        s = Site(moat_factory, pki, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def test_dane_ee_match_delivers_verified(site, pki):
    """Seen before: level dane was refused at start-up."""
    s = site(tlsa=[ee_311(pki)], conf="smtp_tls_security_level = dane\n")
    qid = s.send()
    s.delivered("Verified")
    s.m.wait_log(LINE.format(qid=qid, rcpt=re.escape(f"u@{DOMAIN}"), relay=s.relay,
                             dsn=r"2\.0\.0", status="sent"))
    assert ("TLSA", s.tlsa_name) in s.dns.queries
    # the dns stage asked with the AD and DO bits (smtp_dns_support_level = dnssec)
    assert all(ad and do for ad, do in s.dns.flags), s.dns.flags


def test_dane_tlsa_mismatch_defers_and_sends_nothing(site, pki):
    """A TLSA record for another key: the man in the middle's certificate."""
    s = site(tlsa=[ee_311(pki, "elsewhere.test")], conf="smtp_tls_security_level = dane\n")
    qid = s.send()
    s.deferred(qid, "Server certificate not verified")
    s.m.wait_log(rf"server certificate verification failed for {s.relay}: num=\d+:")


@pytest.mark.parametrize("cert,delivered", [(MX, True), (DOMAIN, True),
                                            ("elsewhere.test", False)])
def test_dane_ta_with_chain_and_reference_identifiers(site, pki, cert, delivered):
    """DANE-TA(2): the CA's digest; the server sends its chain. The
    certificate must name the MX host or the next-hop domain (RFC 7672
    3.2.2), else nothing is delivered."""
    ta = rdata_tlsa(2, 0, 1, sha256(der_cert(pki, "ca")))
    s = site(tlsa=[ta], cert=cert, conf="smtp_tls_security_level = dane\nsmtp_tls_loglevel = 2\n")
    qid = s.send()
    if delivered:
        s.delivered("Verified")
        s.m.wait_log(rf"{s.relay}: Matched DANE TA certificate at depth 1: 2 0 1 ")
    else:
        s.deferred(qid, "Server certificate not verified")


def test_no_ad_bit_is_insecure_and_falls_back_to_may(site, pki):
    """Nothing validated (no AD bit): the TLSA records, even a wrong one, are
    not used, not even looked up; dane is may: TLS without checks."""
    s = site(tlsa=[ee_311(pki, "elsewhere.test")], secure=(),
             conf="smtp_tls_security_level = dane\n")
    s.send()
    s.delivered("Untrusted")
    assert ("TLSA", s.tlsa_name) not in s.dns.queries, s.dns.queries


def test_dane_only_without_tlsa_defers(site, pki):
    s = site(tlsa=[], conf="smtp_tls_security_level = dane-only\n")
    qid = s.send()
    s.deferred(qid, "no TLSA records found", relay="none")
    s.m.wait_log(rf"warning: TLS policy lookup for {DOMAIN}/{MX}: no TLSA records found")


def test_dane_only_insecure_host_defers(site, pki):
    s = site(tlsa=[ee_311(pki)], secure=(DOMAIN,), conf="smtp_tls_security_level = dane-only\n")
    qid = s.send()
    s.deferred(qid, "no TLSA records found")


def test_tlsa_servfail_defers(site, pki):
    """A TLSA lookup that fails is no "no TLSA": the host is deferred, at dane too."""
    s = site(tlsa=[ee_311(pki)], conf="smtp_tls_security_level = dane\n")
    # the TLSA name has the sink's port in it: make it fail now that we know it
    s.dns.servfail.add(s.tlsa_name)
    qid = s.send()
    s.deferred(qid, rf"TLSA lookup error for {re.escape(MX)}:{s.sink.port}")
    s.m.wait_log(r"warning: DANE TLSA lookup problem: ")


def test_secure_tlsa_without_starttls_defers(site, pki):
    """STARTTLS stripped by the next hop (or on the path): TLSA records make
    TLS mandatory, nothing goes in cleartext."""
    s = site(tlsa=[ee_311(pki)], tls=False, conf="smtp_tls_security_level = dane\n")
    qid = s.send()
    s.deferred(qid, rf"TLS is required, but was not offered by host {re.escape(MX)}"
                    rf"\[{re.escape(s.ns.peer_addr)}\]")


@pytest.mark.parametrize("level,delivered", [("dane", True), ("dane-only", False)])
def test_unusable_tlsa(site, pki, level, delivered):
    """Only a PKIX-EE(1) record, which RFC 7672 says SMTP ignores: dane
    falls back to encrypt (TLS, no check), dane-only defers."""
    s = site(tlsa=[rdata_tlsa(1, 1, 1, sha256(der_spki(pki, MX)))],
             conf=f"smtp_tls_security_level = {level}\n")
    qid = s.send()
    s.m.wait_log(rf"warning: {re.escape(s.tlsa_name)} unsupported TLSA certificate usage: 1 1 1 ")
    if delivered:
        s.delivered("Untrusted")
    else:
        s.deferred(qid, "TLSA records unusable")


@pytest.mark.parametrize("policy,delivered,word", [("", False, None), ("dane", False, None),
                                                   ("may", True, "Untrusted"),
                                                   ("encrypt", True, "Untrusted")])
def test_insecure_mx_policy_with_a_wrong_tlsa(site, pki, policy, delivered, word):
    """MX answer without AD, the MX host and its TLSA record signed:
    smtp_tls_dane_insecure_mx_policy decides. Default (dane at level dane)
    and dane: the record is used, a mismatch defers."""
    conf = "smtp_tls_security_level = dane\n"
    if policy:
        conf += f"smtp_tls_dane_insecure_mx_policy = {policy}\n"
    s = site(tlsa=[ee_311(pki, "elsewhere.test")], conf=conf, secure=None)
    s.dns.secure.discard(DOMAIN)
    qid = s.send()
    if delivered:
        s.delivered(word)
    else:
        s.deferred(qid, "Server certificate not verified")


def test_insecure_mx_match_is_logged_trusted(site, pki):
    s = site(tlsa=[ee_311(pki)], conf="smtp_tls_security_level = dane\n")
    s.dns.secure.discard(DOMAIN)
    s.send()
    s.delivered("Trusted")
    assert "Verified TLS" not in s.m.log()


@pytest.mark.parametrize("digests,word", [("sha512 sha256", "Verified"),
                                          ("sha256", "Untrusted")])
def test_tls_dane_digests(site, pki, digests, word):
    """A 3 1 2 (SHA2-512) record: usable by default; with tls_dane_digests =
    sha256 it is unusable, and dane falls back to encrypt."""
    rec = rdata_tlsa(3, 1, 2, hashlib.sha512(der_spki(pki, MX)).digest())
    s = site(tlsa=[rec], conf=f"smtp_tls_security_level = dane\ntls_dane_digests = {digests}\n")
    s.send()
    s.delivered(word)


def test_full_certificate_tlsa_over_tcp(site, pki):
    """3 0 0: the whole certificate as the record (bigger than a UDP answer:
    the dns stage asks again over TCP) and matching type 0."""
    s = site(tlsa=[rdata_tlsa(3, 0, 0, der_cert(pki, MX))],
             conf="smtp_tls_security_level = dane\n")
    s.send()
    s.delivered("Verified")


@pytest.mark.parametrize("conf", ["smtp_tls_security_level = dane\n",
                                  "smtp_tls_security_level = dane-only\n"
                                  "smtp_dns_support_level = enabled\n"])
def test_dane_without_dnssec_stops_start_up(moat_factory, conf):
    m = moat_factory(main_cf_extra=conf)
    err = start_fails(m)
    assert re.search(r"main\.cf:\d+: smtp_tls_security_level: dane and dane-only need "
                     r"smtp_dns_support_level = dnssec", err), err


@pytest.mark.skipif(not HOOKS_BUILD, reason="needs the test-hook build")
@pytest.mark.parametrize("lie", ["tlsa-usage", "secure", "status", "rr-type", "mx-pref"])
def test_hostile_dns_stage_does_not_crash_smtp(site, pki, lie):
    """The dns stage (hooks build, MOAT_TEST_ATTACK dns:lie=...) sends answers
    with a TLSA field past 255, an MX preference past 65535, a secure flag or
    status out of range, a record of a type not asked for: smtp reports the violation, defers,
    and keeps running (no crash, nothing delivered)."""
    s = site(tlsa=[ee_311(pki)], conf="smtp_tls_security_level = dane\n",
             build=HOOKS_BUILD, env={"MOAT_TEST_ATTACK": f"dns:lie={lie}"})
    qid = s.send()
    s.m.wait_log(rf"{qid}: to=<u@{DOMAIN}>.*status=deferred \(.*\)")
    s.m.wait_log(r"warning: dns\[\d+\]: (TLSA field out of range|status or secure flag out of "
                 r"range|record of a type not asked for|MX preference out of range)")
    assert s.sink.messages == []
    log = s.m.log()
    assert not re.search(r"smtp.*(signal|crash|dumped)", log), log[-3000:]


@pytest.mark.parametrize("level", ["disabled", "enabled", "dnssec"])
def test_smtp_dns_support_level(site, pki, level):
    """disabled: no MX lookup (the domain's own address records, which
    dane.test does not have); enabled: MX lookups without the DO bit;
    dnssec: with it."""
    s = site(conf=f"smtp_dns_support_level = {level}\nsmtp_tls_security_level = may\n")
    qid = s.send()
    if level == "disabled":
        s.m.wait_log(rf"{qid}: to=<u@{DOMAIN}>.*status=(deferred|bounced) \(Host or domain name "
                     rf"not found\. Name service error for name={re.escape(DOMAIN)} type=A")
        assert ("MX", DOMAIN) not in s.dns.queries, s.dns.queries
        return
    s.delivered("Untrusted")
    assert ("MX", DOMAIN) in s.dns.queries
    assert {do for _, do in s.dns.flags} == {level == "dnssec"}, s.dns.flags


def test_remote_resolver_draws_a_warning_with_dnssec(site, pki):
    """The AD bit is believed: a resolver not on this host is warned about
    (192.0.2.1 is never asked: the local one answers first)."""
    s = site(tlsa=[ee_311(pki)], conf="smtp_tls_security_level = dane\n"
             "dns_resolver_address = 127.0.0.1:{dnsport}, 192.0.2.1\n")
    s.m.wait_log(r"warning: smtp_dns_support_level = dnssec: resolver 192\.0\.2\.1:53 is not on "
                 r"this host")
    assert not re.search(r"resolver 127\.0\.0\.1:\d+ is not on this host", s.m.log())


def test_dane_ta_public_key_selector(site, pki):
    """2 1 1: the CA's public key (SubjectPublicKeyInfo) digest."""
    ta = rdata_tlsa(2, 1, 1, sha256(der_spki(pki, "ca")))
    s = site(tlsa=[ta], conf="smtp_tls_security_level = dane-only\nsmtp_tls_loglevel = 2\n")
    s.send()
    s.delivered("Verified")
    s.m.wait_log(rf"{s.relay}: Matched DANE TA (certificate|public key verified certificate) "
                 r"at depth 1: 2 1 1 ")
