"""The smtp client's routing and rewriting (issue 8): inside next hops that
the configuration names (transport_maps to loopback or another port),
smtp_fallback_relay, smtp_generic_maps. Real tables through the lookup
stage, real sinks; a compromised qmgr in the test build."""
import os
import re

import pytest

from conftest import HOOKS_BUILD
from mailpeers import Dnsmasq, RecordingSink
from relayenv import FAST_RETRY, send
from test_lookup import hold_table
from test_route import rcpts_of, table
from test_smtp_guard import connected, idle_listener

BODY = "Subject: t\r\n\r\nbody\r\n"


def moat_with(moat_factory, main_cf, tables, build=None, env=None):
    """A relay with main_cf ({name} is the path of tables[name]) and the
    default services."""
    kw = {"build": build} if build else {}
    m = moat_factory(main_cf_extra="mynetworks = 127.0.0.0/8\n" + FAST_RETRY,
                     env_extra=env or {}, **kw)
    paths = {name: table(m, name, text) for name, text in tables.items()}
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(main_cf.format(**paths))
    return m.start()


# --- next hops from transport_maps ------------------------------------------

def test_transport_maps_inside_hops_on_loopback_and_other_ports(moat_factory):
    """A firewall relay's transport_maps names [127.0.0.1]:port hops (a
    content filter, an inside server on a port but 25): they are the
    administrator's, so the guard lets them through and Landlock does not
    stop the port. Before: bounced 5.4.6 "loops back to myself"."""
    with RecordingSink() as a, RecordingSink() as b, RecordingSink() as dflt:
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{dflt.port}\n"
                      "transport_maps = texthash:{transport}\n", {
                          "transport": (f"inside.example smtp:[127.0.0.1]:{a.port}\n"
                                        f".inside.example smtp:[127.0.0.1]:{a.port}\n"
                                        f"filter.example :[127.0.0.1]:{b.port}\n")})
        qid = send(m, "s@src.example", ["u@inside.example", "u@sub.inside.example",
                                        "v@filter.example", "w@out.example"], BODY)
        a.wait_count(1)
        b.wait_count(1)
        dflt.wait_count(1)
        assert rcpts_of(a) == ["u@inside.example", "u@sub.inside.example"]
        assert rcpts_of(b) == ["v@filter.example"]
        assert rcpts_of(dflt) == ["w@out.example"]
        m.wait_log(rf"{qid}: to=<u@inside\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{a.port}"
                   r".*status=sent")
        assert "loops back to myself" not in m.log()


def test_sender_dependent_relayhost_on_loopback(moat_factory):
    """sender_dependent_relayhost_maps names a loopback relay on its own
    port: it is the administrator's too."""
    with RecordingSink() as a, RecordingSink() as dflt:
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{dflt.port}\n"
                      "sender_dependent_relayhost_maps = texthash:{sdr}\n",
                      {"sdr": f"@special.example [127.0.0.1]:{a.port}\n"})
        send(m, "boss@special.example", ["u@out.example"], BODY)
        send(m, "s@plain.example", ["u@out.example"], BODY)
        a.wait_count(1)
        dflt.wait_count(1)
        assert a.messages[0].mail_from == "boss@special.example"
        assert dflt.messages[0].mail_from == "s@plain.example"


@pytest.mark.parametrize("lie", ["named", "unnamed"])
def test_qmgr_naming_a_loopback_hop_is_not_believed(moat_factory, lie):
    """A compromised qmgr (test build) puts a loopback next hop in every
    job. The smtp stage asks the tables itself: the recipient the tables
    route there is delivered; the one they route elsewhere never reaches
    that hop (named: the inside sink of another domain; unnamed: a loopback
    port nobody configured), and the delivery is refused with a warning."""
    listener = idle_listener("127.0.0.1")
    with RecordingSink() as a, RecordingSink() as dflt:
        target = a.port if lie == "named" else listener.getsockname()[1]
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{dflt.port}\n"
                      "transport_maps = texthash:{transport}\n",
                      {"transport": f"inside.example smtp:[127.0.0.1]:{a.port}\n"},
                      build=HOOKS_BUILD, env={"MOAT_TEST_ATTACK": f"qmgr:nexthop=[127.0.0.1]:{target}"})
        qid = send(m, "s@src.example", ["u@out.example"], BODY)
        m.wait_log(rf"warning: {qid}: next hop \[127\.0\.0\.1\]:{target}: port {target} is not "
                   "one the configuration names for it")
        m.wait_log(rf"{qid}: to=<u@out\.example>, relay=none.*dsn=4\.3\.5, status=deferred "
                   rf"\(next-hop destination \"\[127\.0\.0\.1\]:{target}\" is not in the configuration\)")
        if lie == "named":
            send(m, "s@src.example", ["u@inside.example"], BODY)
            a.wait_count(1)
            assert rcpts_of(a) == ["u@inside.example"]
        assert dflt.messages == []
    assert not connected(listener), "smtp connected to a loopback port nobody named"
    listener.close()


def test_mx_to_loopback_still_refused_with_transport_maps(moat_factory):
    """With transport_maps, Landlock no longer limits the ports: a DNS
    answer pointing at loopback is still refused by the guard itself."""
    listener = idle_listener("127.0.0.1")
    port = listener.getsockname()[1]
    records = ["--mx-host=evil.test,mx.evil.test,10", "--host-record=mx.evil.test,127.0.0.1"]
    with Dnsmasq(records) as dns, RecordingSink() as a:
        m = moat_with(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                      f"smtp_tcp_port = {port}\n"
                      "transport_maps = texthash:{transport}\n",
                      {"transport": f"inside.example smtp:[127.0.0.1]:{a.port}\n"})
        qid = send(m, "a@sender.test", ["u@evil.test"], BODY)
        m.wait_log(rf"{qid}: to=<u@evil\.test>, relay=none.*dsn=5\.4\.6, status=bounced "
                   r"\(mail for evil\.test loops back to myself\)")
        assert a.messages == []
    assert not connected(listener)
    listener.close()


# --- smtp_fallback_relay ----------------------------------------------------

@pytest.mark.parametrize("param", ["smtp_fallback_relay", "fallback_relay"])
def test_fallback_relays_in_order_when_the_next_hop_is_unreachable(moat_factory, param):
    """relayhost is a closed port; the first fallback too; the second gets
    the mail, and the log names it as the relay. fallback_relay is the old
    name (smtp_fallback_relay's default)."""
    closed, closed2 = idle_listener("127.0.0.1"), idle_listener("127.0.0.1")
    dead, dead2 = closed.getsockname()[1], closed2.getsockname()[1]
    closed.close()
    closed2.close()
    with RecordingSink() as fb:
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{dead}\n"
                      f"{param} = [127.0.0.1]:{dead2}, [127.0.0.1]:{fb.port}\n", {})
        qid = send(m, "s@src.example", ["u@out.example", "v@out.example"], BODY)
        fb.wait_count(1)
        assert rcpts_of(fb) == ["u@out.example", "v@out.example"]
        m.wait_log(rf"{qid}: to=<u@out\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{fb.port}"
                   r".*dsn=2\.0\.0, status=sent")


def test_fallback_relay_not_used_after_a_5xx(moat_factory):
    """A server of the next hop that answers 5xx has decided: the mail
    bounces, the fallback relay gets nothing."""
    with RecordingSink() as primary, RecordingSink() as fb:
        primary.handler.data_rules = [(554, "5.7.1 not here")]
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{primary.port}\n"
                      f"smtp_fallback_relay = [127.0.0.1]:{fb.port}\n", {})
        qid = send(m, "", ["u@out.example"], BODY)
        m.wait_log(rf"{qid}: to=<u@out\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{primary.port}"
                   r".*dsn=5\.7\.1, status=bounced")
        m.wait_log(rf"{qid}: removed")
        assert fb.messages == [] and primary.messages == []


def test_fallback_relay_not_used_when_we_are_the_mx(moat_factory):
    """Postfix: no fallback for a destination this host is an MX host of
    (the fallback would send it back): 5.4.6, loops back to myself."""
    records = ["--mx-host=self.test,mx.self.test,10", "--host-record=mx.self.test,192.0.2.1"]
    with Dnsmasq(records) as dns, RecordingSink() as fb:
        m = moat_with(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                      "myhostname = mx.self.test\n"
                      f"smtp_fallback_relay = [127.0.0.1]:{fb.port}\n", {})
        qid = send(m, "", ["u@self.test"], BODY)
        m.wait_log(rf"{qid}: to=<u@self\.test>, relay=none.*dsn=5\.4\.6, status=bounced "
                   r"\(mail for self\.test loops back to myself\)")
        assert fb.messages == []


def test_fallback_relay_after_domain_not_found(moat_factory):
    """A hard lookup failure (no such domain) goes to the fallback relay
    instead of bouncing, as Postfix."""
    with Dnsmasq(["--address=/nowhere.test/"]) as dns, RecordingSink() as fb:
        m = moat_with(moat_factory, f"dns_resolver_address = 127.0.0.1:{dns.port}\n"
                      f"smtp_fallback_relay = [127.0.0.1]:{fb.port}\n", {})
        qid = send(m, "s@src.example", ["u@nowhere.test"], BODY)
        fb.wait_count(1)
        m.wait_log(rf"{qid}: to=<u@nowhere\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{fb.port}"
                   r".*status=sent")


# --- smtp_generic_maps ------------------------------------------------------

GENERIC = ("user@inside.example   public@example.com\n"
           "root                  hostmaster@example.com\n"
           "@internal.example     @example.net\n"
           "quote@inside.example  \"odd one\"@example.com\n")

HEADERS = ("From: \"User, Inside\" <user@inside.example> (the boss)\r\n"
           "To: bob@internal.example (Bob),\r\n"
           "  friends: carol+tag@internal.example, <root@local.example>;\r\n"
           "Cc: <user@inside.example>, other@else.example, quote@inside.example\r\n"
           "Reply-To: <>\r\n"
           "Subject: mail from user@inside.example\r\n"
           "X-Note: user@inside.example\r\n")
BODY_TEXT = "\r\nFrom: user@inside.example\r\n..dot line\r\nbob@internal.example\r\n"


def test_generic_maps_rewrite_envelope_and_address_headers(moat_factory):
    """generic(5) in the smtp client: MAIL FROM, RCPT TO and the address
    headers (only their addresses: names, comments, folding, other headers
    and the body stay byte for byte); user@domain, user (local domain:
    myorigin), @domain (the local part kept, its extension dropped); the
    queue file and the log keep the original addresses."""
    with RecordingSink() as out:
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{out.port}\n"
                      "myorigin = local.example\nrecipient_delimiter = +\n"
                      "smtp_generic_maps = texthash:{generic}\n", {"generic": GENERIC})
        qid = send(m, "user@inside.example", ["bob@internal.example", "carol+tag@internal.example",
                                              "root@local.example", "x@else.example"],
                   HEADERS + BODY_TEXT)
        (msg,) = out.wait_count(1)
        assert msg.mail_from == "public@example.com"
        assert sorted(msg.rcpt_tos) == ["bob@example.net", "carol@example.net",
                                        "hostmaster@example.com", "x@else.example"]
        text = msg.content.decode()
        head, body = text.split("\r\n\r\n", 1)
        assert ("From: \"User, Inside\" <public@example.com> (the boss)\r\n"
                "To: bob@example.net (Bob),\r\n"
                "  friends: carol@example.net, <hostmaster@example.com>;\r\n"
                "Cc: <public@example.com>, other@else.example, \"odd one\"@example.com\r\n"
                "Reply-To: <>\r\n"
                "Subject: mail from user@inside.example\r\n"
                "X-Note: user@inside.example") in head
        assert "\r\n" + body == BODY_TEXT
        m.wait_log(rf"{qid}: to=<carol\+tag@internal\.example>, relay=.*status=sent")
        m.wait_log(rf"{qid}: from=<user@inside\.example>")


def test_generic_maps_not_applied_to_an_unlisted_address_nor_the_null_sender(moat_factory):
    with RecordingSink() as out:
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{out.port}\n"
                      "smtp_generic_maps = texthash:{generic}\n", {"generic": GENERIC})
        body = "From: a@else.example\r\nTo: b@else.example\r\n\r\nhi\r\n"
        send(m, "", ["b@else.example"], body)
        (msg,) = out.wait_count(1)
        assert msg.mail_from == "<>" and msg.rcpt_tos == ["b@else.example"]
        text = msg.content.decode()
        assert "\r\nFrom: a@else.example\r\nTo: b@else.example\r\n" in text
        assert text.endswith("\r\n\r\nhi\r\n")


def test_generic_maps_lookup_failure_defers(moat_factory):
    """A table that fails (broken after start: the lookup stage restarts on
    it) defers the delivery with a warning; nothing leaves unrewritten."""
    with RecordingSink() as out:
        m = moat_with(moat_factory, f"relayhost = [127.0.0.1]:{out.port}\n"
                      "smtp_generic_maps = pcre:{generic}\n",
                      {"generic": "/^user@inside\\.example$/ public@example.com\n"})
        hold_table(m, f"pcre:{os.path.join(m.dir, 'tables', 'generic')}")
        with open(os.path.join(m.dir, "tables", "generic"), "w") as f:
            f.write("/unclosed( x\n")
        m.wait_log(r"has changed -- restarting|tables could not be opened")
        qid = send(m, "user@inside.example", ["b@else.example"], BODY)
        m.wait_log(rf"{qid}: to=<b@else\.example>, relay=none.*dsn=4\.3\.0, status=deferred "
                   r"\(smtp_generic_maps lookup failure\)", timeout=60)
        assert re.search(rf"warning: {qid}: smtp_generic_maps lookup failure", m.log())
        assert out.messages == []
