"""The restriction language beyond relay control, against a real dnsmasq
serving DNS lists and mail domains: reject_rbl_client (with a reply filter),
reject_rhsbl_sender/helo/recipient, permit_dnswl_client,
reject_unknown_sender_domain, reject_unknown_recipient_domain,
reject_unknown_helo_hostname (and its old name), restriction classes,
warn_if_reject, every reject code parameter those use, default_rbl_reply
and smtpd_reject_footer on their replies, smtpd_etrn_restrictions checked at
start-up.

Clients connect from different loopback addresses (127.0.0.x): the DNS list
bl.test lists 127.0.0.2 (reason in TXT) and 127.0.0.3 (answer 127.0.0.10),
the whitelist wl.test lists 127.0.0.4.
"""
import os
import smtplib

import pytest

from mailpeers import Dnsmasq, RecordingSink
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf

RECORDS = [
    "--local=/test/", "--local=/in-addr.arpa/",
    "--address=/2.0.0.127.bl.test/127.0.0.2",
    "--txt-record=2.0.0.127.bl.test,Listed for testing",
    "--address=/3.0.0.127.bl.test/127.0.0.10",
    "--address=/4.0.0.127.wl.test/127.0.0.2",
    "--address=/spammer.test.dbl.test/127.0.0.2",
    "--mx-host=known.test,mx.known.test,10",
    "--address=/mx.known.test/127.0.0.1",
    "--host-record=host.test,127.0.0.1",
    "--address=/spammer.test/127.0.0.1",
]


@pytest.fixture(scope="module")
def dns():
    with Dnsmasq(RECORDS, log_queries=True) as d:
        yield d


@pytest.fixture
def sink():
    with RecordingSink() as s:
        yield s


def start(moat_factory, sink, dns, main_cf, trusted=True):
    nets = "mynetworks = 127.0.0.0/8\n" if trusted else "mynetworks = 127.0.0.1/32\n"
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)
                     .replace("mynetworks = 127.0.0.0/8\n", nets)
                     + f"dns_resolver_address = 127.0.0.1:{dns.port}\n" + main_cf)
    with open(f"{m.confdir}/master.cf", "w") as f:
        f.write(relay_master_cf(m))
    return m.start()


def rcpt(m, source="127.0.0.1", helo="host.test", sender="a@known.test", to="b@known.test"):
    """(code, text) of RCPT TO after EHLO and MAIL FROM."""
    with smtplib.SMTP("127.0.0.1", m.port, timeout=60, source_address=(source, 0)) as s:
        s.ehlo(helo)
        code, msg = s.mail(sender)
        assert code == 250, (code, msg)
        code, msg = s.rcpt(to)
        return code, msg.decode()


RBL_REPLY = ("Service unavailable; Client host [127.0.0.2] blocked using bl.test; "
             "Listed for testing")


def test_rbl_client_reply_code_and_reason(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns, "smtpd_client_restrictions = reject_rbl_client bl.test\n")
    assert rcpt(m, "127.0.0.2") == (554, "5.7.1 " + RBL_REPLY)
    m.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 Service "
               r"unavailable; Client host \[127\.0\.0\.2\] blocked using bl\.test; Listed for "
               r"testing; from=<a@known\.test> to=<b@known\.test> proto=ESMTP helo=<host\.test>")
    assert rcpt(m, "127.0.0.5")[0] == 250
    assert ("A", "2.0.0.127.bl.test") in dns.queries() and ("TXT", "2.0.0.127.bl.test") \
        in dns.queries(), dns.queries()


def test_rbl_code_template_and_footer(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns,
              "smtpd_client_restrictions = reject_rbl_client bl.test=127.0.0.[2..9]\n"
              "maps_rbl_reject_code = 521\n"
              "default_rbl_reply = $rbl_code 5.7.9 $rbl_what listed by $rbl_domain"
              "${rbl_reason?: $rbl_reason}${rbl_reason:, no reason} ($client_address)\n"
              "smtpd_reject_footer = see http://help.test/\n")
    assert rcpt(m, "127.0.0.2") == (
        521, "5.7.9 127.0.0.2 listed by bl.test: Listed for testing (127.0.0.2)\n"
             "5.7.9 see http://help.test/")
    # 127.0.0.3 is listed with 127.0.0.10: outside the filter
    assert rcpt(m, "127.0.0.3")[0] == 250


def test_rhsbl_sender_helo_and_recipient(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns,
              "smtpd_sender_restrictions = reject_rhsbl_sender dbl.test\n"
              "smtpd_helo_restrictions = reject_rhsbl_helo dbl.test\n"
              "smtpd_recipient_restrictions = reject_rhsbl_recipient dbl.test\n")
    assert rcpt(m, sender="a@spammer.test") == (
        554, "5.7.1 Service unavailable; Sender address [spammer.test] blocked using dbl.test")
    assert rcpt(m, helo="spammer.test") == (
        554, "5.7.1 Service unavailable; Helo command [spammer.test] blocked using dbl.test")
    assert rcpt(m, to="x@spammer.test") == (
        554, "5.7.1 Service unavailable; Recipient address [spammer.test] blocked using dbl.test")
    assert rcpt(m)[0] == 250


def test_dnswl_client_permits_but_never_relays(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns,
              "smtpd_client_restrictions = permit_dnswl_client wl.test, reject\n"
              "smtpd_relay_restrictions = permit_mynetworks permit_dnswl_client wl.test "
              "reject_unauth_destination\n"
              "relay_domains = known.test\n", trusted=False)
    assert rcpt(m, "127.0.0.4")[0] == 250
    assert rcpt(m, "127.0.0.5") == (554, "5.7.1 <unknown[127.0.0.5]>: Client host rejected: "
                                         "Access denied")
    # listed, but relaying elsewhere is not its to give
    assert rcpt(m, "127.0.0.4", to="b@elsewhere.test") == (
        554, "5.7.1 <b@elsewhere.test>: Relay access denied")
    m.wait_log(r"unknown\[127\.0\.0\.4\] listed in wl\.test, ignored for unauthorised "
               r"destination b@elsewhere\.test")


def test_unknown_sender_and_recipient_domain(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns,
              "smtpd_sender_restrictions = reject_unknown_sender_domain\n"
              "smtpd_recipient_restrictions = reject_unknown_recipient_domain\n")
    assert rcpt(m, sender="a@gone.test") == (
        450, "4.1.8 <a@gone.test>: Sender address rejected: Domain not found")
    assert rcpt(m, to="b@gone.test") == (
        450, "4.1.2 <b@gone.test>: Recipient address rejected: Domain not found")
    assert rcpt(m, sender="a@host.test", to="b@known.test")[0] == 250  # A only / MX
    assert rcpt(m, sender="")[0] == 250                                # null sender skipped


def test_unknown_address_reject_code(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns,
              "smtpd_recipient_restrictions = reject_unknown_recipient_domain\n"
              "unknown_address_reject_code = 550\n")
    assert rcpt(m, to="b@gone.test") == (
        550, "5.1.2 <b@gone.test>: Recipient address rejected: Domain not found")


@pytest.mark.parametrize("name", ["reject_unknown_helo_hostname", "reject_unknown_hostname"])
def test_unknown_helo_hostname_and_code(moat_factory, sink, dns, name):
    m = start(moat_factory, sink, dns, f"smtpd_helo_restrictions = {name}\n"
              "unknown_hostname_reject_code = 554\n")
    assert rcpt(m, helo="nohost.test") == (
        554, "5.7.1 <nohost.test>: Helo command rejected: Host not found")
    assert rcpt(m, helo="host.test")[0] == 250
    assert rcpt(m, helo="[127.0.0.1]")[0] == 250


def test_restriction_class_and_warn_if_reject(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns,
              "smtpd_restriction_classes = blocklists, strict\n"
              "blocklists = reject_rbl_client bl.test\n"
              "strict = warn_if_reject reject_unknown_sender_domain, blocklists\n"
              "smtpd_client_restrictions = strict\n")
    assert rcpt(m, "127.0.0.2")[0] == 554
    assert rcpt(m, "127.0.0.5", sender="a@gone.test")[0] == 250
    m.wait_log(r"NOQUEUE: reject_warning: RCPT from unknown\[127\.0\.0\.5\]: 450 4\.1\.8 "
               r"<a@gone\.test>: Sender address rejected: Domain not found; from=<a@gone\.test>")


def test_old_names_and_check_relay_domains(moat_factory, sink, dns):
    m = start(moat_factory, sink, dns,
              "smtpd_helo_restrictions = reject_invalid_hostname reject_non_fqdn_hostname\n"
              "smtpd_relay_restrictions = permit_mynetworks check_relay_domains\n"
              "relay_domains = known.test\n", trusted=False)
    assert rcpt(m, "127.0.0.1", helo="nodots")[0] == 504
    assert rcpt(m, "127.0.0.5", to="b@known.test")[0] == 250
    assert rcpt(m, "127.0.0.5", to="b@elsewhere.test") == (
        554, "5.7.1 <b@elsewhere.test>: Recipient address rejected: Relay access denied")


@pytest.mark.parametrize("main_cf,want", [
    ("smtpd_etrn_restrictions = permit_mynetworks, reject_etrn\n",
     "smtpd_etrn_restrictions: unknown or unsupported restriction \"reject_etrn\""),
    ("smtpd_restriction_classes = loop\nloop = permit_mynetworks loop\n",
     "smtpd_restriction_classes: restriction class \"loop\" uses itself"),
    ("smtpd_client_restrictions = reject_rbl_client bl.test=127.0.0.300\n",
     "smtpd_client_restrictions: reject_rbl_client bl.test=127.0.0.300: bad reply filter"),
    ("smtpd_recipient_restrictions = permit_mx_backup\n",
     "permit_mx_backup\" (moat has no MX-backup check"),
])
def test_bad_restrictions_stop_start_up(moat_factory, main_cf, want):
    m = moat_factory(main_cf_extra=main_cf)
    m.start(wait=False)
    assert m.proc.wait(timeout=30) != 0
    err = m.read_stderr()
    assert want in err and "main.cf:" in err, err


@pytest.mark.parametrize("main_cf,want", [
    # defer_if_permit (the default): a later reject wins, a permit becomes the 450
    ("smtpd_sender_restrictions = reject_unknown_sender_domain, reject\n",
     (554, "5.7.1 <a@known.test>: Sender address rejected: Access denied")),
    ("smtpd_sender_restrictions = reject_unknown_sender_domain\n",
     (450, "4.1.8 <a@known.test>: Sender address rejected: Domain not found")),
    ("smtpd_sender_restrictions = reject_unknown_sender_domain, reject\n"
     "unknown_address_tempfail_action = defer\n",
     (450, "4.1.8 <a@known.test>: Sender address rejected: Domain not found")),
    ("smtpd_helo_restrictions = reject_unknown_helo_hostname, reject\n"
     "reject_tempfail_action = defer\n",
     (450, "4.7.1 <host.test>: Helo command rejected: Host not found")),
    ("smtpd_helo_restrictions = reject_unknown_helo_hostname, reject\n"
     "unknown_helo_hostname_tempfail_action = defer_if_permit\n"
     "reject_tempfail_action = defer\n",
     (554, "5.7.1 <host.test>: Helo command rejected: Access denied")),
])
def test_dns_failure_is_never_final(moat_factory, sink, main_cf, want):
    """No resolver answers: the lookups fail for now. A 5xx never comes from
    that alone; *_tempfail_action chooses an immediate 450 or defer_if_permit."""
    from mailpeers import free_port_udp

    class Dead:
        port = free_port_udp()
    assert rcpt(start(moat_factory, sink, Dead, main_cf)) == want


def test_rbl_reply_maps(moat_factory, sink, dns, tmp_path):
    maps = tmp_path / "rbl_reply"
    maps.write_text("bl.test $rbl_code 5.7.9 $rbl_class $rbl_what is in $rbl_domain"
                    "${rbl_reason?: $rbl_reason}\n"
                    "bl.test=127.0.0.10 no reply code here\n")
    os.chmod(tmp_path, 0o755)
    m = start(moat_factory, sink, dns,
              "smtpd_client_restrictions = reject_rbl_client bl.test=127.0.0.10, "
              "reject_rbl_client bl.test\n"
              "smtpd_sender_restrictions = reject_rhsbl_sender dbl.test\n"
              f"rbl_reply_maps = texthash:{maps}\n")
    assert rcpt(m, "127.0.0.2") == (
        554, "5.7.9 Client host 127.0.0.2 is in bl.test: Listed for testing")
    # a list the table does not name: default_rbl_reply
    assert rcpt(m, sender="a@spammer.test") == (
        554, "5.7.1 Service unavailable; Sender address [spammer.test] blocked using dbl.test")
    # the key is the list as written, filter included; a template without a code defers
    assert rcpt(m, "127.0.0.3") == (451, "4.3.5 Server configuration error")
    m.wait_log(r"warning: rbl_reply_maps: the template does not give \"4NN text\"")
