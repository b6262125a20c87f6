"""The access checks whose keys come from DNS, against a real dnsmasq:
check_{client,reverse_client_hostname,helo,sender,recipient}_{a,mx,ns}_access
and check_reverse_client_hostname_access. The _a_ forms look up the
subject's own addresses, the _mx_ forms each MX host's name (with its
parent domains) and then its addresses, the _ns_ forms the name servers
(the parent's when the name has none); a domain without MX is its own MX
host, an address literal its own server. An OK from any of them is refused
(451 4.3.5), as Postfix refuses it, since the keys are the client's choice.

One moat holds every restriction in smtpd_recipient_restrictions, each with
a table of its own whose keys only its own scenario's DNS records reach, so
each scenario is decided by exactly the restriction it names."""
import os
import pytest

from conftest import BUILD, MoatInstance
from mailpeers import Dnsmasq, RecordingSink
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf
from test_restrictions import rcpt


def ns_record(name, server):
    """--dns-rr for an NS record: the server's name in DNS wire form."""
    wire = b"".join(bytes([len(p)]) + p.encode() for p in server.split(".")) + b"\0"
    return f"--dns-rr={name},2,{wire.hex()}"


RECORDS = [
    "--local=/test/", "--local=/in-addr.arpa/",
    "--mx-host=known.test,mx.known.test,10", "--address=/mx.known.test/127.0.0.1",
    "--host-record=host.test,127.0.0.1",
    # verified clients (PTR and A agree)
    "--host-record=client-a.test,127.0.0.7",
    "--host-record=client-mx.test,127.0.0.12",
    "--mx-host=client-mx.test,cmx.test,10", "--host-record=cmx.test,192.0.2.12",
    "--host-record=client-ns.test,127.0.0.13",
    ns_record("client-ns.test", "cns.test"), "--host-record=cns.test,192.0.2.13",
    # clients whose PTR name does not resolve back to them
    "--ptr-record=8.0.0.127.in-addr.arpa,liar.test",
    "--ptr-record=9.0.0.127.in-addr.arpa,liar-a.test", "--host-record=liar-a.test,192.0.2.14",
    "--ptr-record=10.0.0.127.in-addr.arpa,liar-mx.test",
    "--mx-host=liar-mx.test,lmx.test,10", "--host-record=lmx.test,192.0.2.15",
    "--ptr-record=11.0.0.127.in-addr.arpa,liar-ns.test",
    ns_record("liar-ns.test", "lns.test"), "--host-record=lns.test,192.0.2.16",
    # HELO names
    "--host-record=helo-a.test,192.0.2.17",
    "--mx-host=helo-mx.test,hmx.test,10", "--host-record=hmx.test,192.0.2.18",
    ns_record("helo-ns.test", "hns.test"), "--host-record=hns.test,192.0.2.19",
    # sender domains
    "--host-record=s-a.test,192.0.2.20",
    "--mx-host=s-mx.test,smx.test,10", "--mx-host=s-mx.test,smx2.test,20",
    "--host-record=smx.test,192.0.2.40", "--host-record=smx2.test,192.0.2.21",
    "--mx-host=s-mxname.test,mx.named.test,10", "--host-record=mx.named.test,192.0.2.41",
    "--host-record=s-nomx.test,192.0.2.31",
    ns_record("s-ns.test", "sns.test"), "--host-record=sns.test,192.0.2.22",
    "--host-record=sub.s-ns.test,192.0.2.42",
    "--host-record=s-ok.test,192.0.2.30",
    # recipient domains
    "--host-record=r-a.test,192.0.2.25",
    "--mx-host=r-mx.test,rmx.test,10", "--host-record=rmx.test,192.0.2.26",
    ns_record("r-ns.test", "rns.test"), "--host-record=rns.test,192.0.2.27",
]

# restriction -> its table
TABLES = {
    "check_client_a_access": "127.0.0.7 REJECT hit client_a\n",
    "check_client_mx_access": "192.0.2.12 REJECT hit client_mx\n",
    "check_client_ns_access": "192.0.2.13 REJECT hit client_ns\n",
    "check_reverse_client_hostname_access": "liar.test REJECT hit reverse\n",
    "check_reverse_client_hostname_a_access": "192.0.2.14 REJECT hit reverse_a\n",
    "check_reverse_client_hostname_mx_access": "192.0.2.15 REJECT hit reverse_mx\n",
    "check_reverse_client_hostname_ns_access": "192.0.2.16 REJECT hit reverse_ns\n",
    "check_helo_a_access": "192.0.2.17 REJECT hit helo_a\n",
    "check_helo_mx_access": "192.0.2.18 REJECT hit helo_mx\n",
    "check_helo_ns_access": "192.0.2.19 REJECT hit helo_ns\n",
    "check_sender_a_access": "192.0.2.20 REJECT hit sender_a\n192.0.2.30 OK\n",
    "check_sender_mx_access": "192.0.2.21 REJECT hit sender_mx\n"
                              "named.test 550 5.7.9 hit sender_mx by name\n"
                              "192.0.2.31 REJECT hit sender_mx itself\n",
    "check_sender_ns_access": "192.0.2.22 REJECT hit sender_ns\n",
    "check_recipient_a_access": "192.0.2.25 REJECT hit recipient_a\n",
    "check_recipient_mx_access": "192.0.2.26 REJECT hit recipient_mx\n",
    "check_recipient_ns_access": "192.0.2.27 REJECT hit recipient_ns\n",
}


@pytest.fixture(scope="module")
def dns():
    with Dnsmasq(RECORDS, log_queries=True) as d:
        yield d


@pytest.fixture(scope="module")
def moat(dns):
    with RecordingSink() as sink:
        m = MoatInstance(BUILD, main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)
                         + f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                         + "smtpd_peername_lookup = yes\n")
        items = []
        for name, text in TABLES.items():
            path = os.path.join(m.confdir, name)
            with open(path, "w") as f:
                f.write(text)
            items.append(f"{name} texthash:{path}")
        with open(os.path.join(m.confdir, "main.cf"), "a") as f:
            f.write("smtpd_recipient_restrictions = " + ", ".join(items) + "\n")
        with open(os.path.join(m.confdir, "master.cf"), "w") as f:
            f.write(relay_master_cf(m))
        try:
            yield m.start()
        finally:
            left = m.stop()
            m.cleanup()
        assert not left, f"moat processes left behind: {left}"


# (restriction, client address, helo, sender, recipient, the reply expected)
CASES = [
    ("check_client_a_access", "127.0.0.7", {},
     "554 5.7.1 <client-a.test[127.0.0.7]>: Client host rejected: hit client_a"),
    ("check_client_mx_access", "127.0.0.12", {},
     "554 5.7.1 <client-mx.test[127.0.0.12]>: Client host rejected: hit client_mx"),
    ("check_client_ns_access", "127.0.0.13", {},
     "554 5.7.1 <client-ns.test[127.0.0.13]>: Client host rejected: hit client_ns"),
    ("check_reverse_client_hostname_access", "127.0.0.8", {},
     "554 5.7.1 <liar.test>: Unverified Client host rejected: hit reverse"),
    ("check_reverse_client_hostname_a_access", "127.0.0.9", {},
     "554 5.7.1 <liar-a.test>: Unverified Client host rejected: hit reverse_a"),
    ("check_reverse_client_hostname_mx_access", "127.0.0.10", {},
     "554 5.7.1 <liar-mx.test>: Unverified Client host rejected: hit reverse_mx"),
    ("check_reverse_client_hostname_ns_access", "127.0.0.11", {},
     "554 5.7.1 <liar-ns.test>: Unverified Client host rejected: hit reverse_ns"),
    ("check_helo_a_access", "127.0.0.1", {"helo": "helo-a.test"},
     "554 5.7.1 <helo-a.test>: Helo command rejected: hit helo_a"),
    ("check_helo_mx_access", "127.0.0.1", {"helo": "helo-mx.test"},
     "554 5.7.1 <helo-mx.test>: Helo command rejected: hit helo_mx"),
    ("check_helo_ns_access", "127.0.0.1", {"helo": "helo-ns.test"},
     "554 5.7.1 <helo-ns.test>: Helo command rejected: hit helo_ns"),
    ("check_sender_a_access", "127.0.0.1", {"sender": "a@s-a.test"},
     "554 5.7.1 <a@s-a.test>: Sender address rejected: hit sender_a"),
    ("check_sender_mx_access", "127.0.0.1", {"sender": "a@s-mx.test"},   # the second MX
     "554 5.7.1 <a@s-mx.test>: Sender address rejected: hit sender_mx"),
    ("check_sender_ns_access", "127.0.0.1", {"sender": "a@s-ns.test"},
     "554 5.7.1 <a@s-ns.test>: Sender address rejected: hit sender_ns"),
    ("check_recipient_a_access", "127.0.0.1", {"to": "b@r-a.test"},
     "554 5.7.1 <b@r-a.test>: Recipient address rejected: hit recipient_a"),
    ("check_recipient_mx_access", "127.0.0.1", {"to": "b@r-mx.test"},
     "554 5.7.1 <b@r-mx.test>: Recipient address rejected: hit recipient_mx"),
    ("check_recipient_ns_access", "127.0.0.1", {"to": "b@r-ns.test"},
     "554 5.7.1 <b@r-ns.test>: Recipient address rejected: hit recipient_ns"),
]


@pytest.mark.parametrize("name,source,args,reply", CASES, ids=[c[0] for c in CASES])
def test_each_restriction(moat, name, source, args, reply):
    code, msg = rcpt(moat, source=source, **args)
    assert f"{code} {msg}" == reply, moat.log()[-3000:]


def test_nothing_listed_passes(moat):
    assert rcpt(moat)[0] == 250


def test_mx_host_name_and_parents(moat):
    # MX host mx.named.test matches the table's named.test (parent_domain_matches_subdomains)
    assert rcpt(moat, sender="a@s-mxname.test") == (
        550, "5.7.9 <a@s-mxname.test>: Sender address rejected: hit sender_mx by name")


def test_no_mx_means_the_domain_itself(moat):
    assert rcpt(moat, sender="a@s-nomx.test") == (
        554, "5.7.1 <a@s-nomx.test>: Sender address rejected: hit sender_mx itself")


def test_no_ns_means_the_parents(moat):
    assert rcpt(moat, sender="a@sub.s-ns.test") == (
        554, "5.7.1 <a@sub.s-ns.test>: Sender address rejected: hit sender_ns")


def test_address_literal_is_its_own_server(moat):
    assert rcpt(moat, sender="a@[192.0.2.20]") == (
        554, "5.7.1 <a@[192.0.2.20]>: Sender address rejected: hit sender_a")


def test_ok_is_refused(moat):
    assert rcpt(moat, sender="a@s-ok.test") == (451, "4.3.5 Server configuration error")
    moat.wait_log(r"warning: restriction check_sender_a_access returns OK for a@s-ok\.test")
    moat.wait_log(r"warning: use DUNNO instead of OK if you want to make an exception")
