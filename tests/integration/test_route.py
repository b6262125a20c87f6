"""Routing with tables (issue 8): transport_maps, relay_domains and
mydestination as tables, sender_dependent_relayhost_maps, asked by qmgr of
the lookup stage. Real tables; the default next hop is relayhost on
loopback, the inside hosts are sinks on port 25 in network namespaces of
their own (the smtp stage refuses loopback next hops it was not configured
with, and connects only to the ports of its configuration)."""
import contextlib
import os
import re

import pytest

from mailpeers import Netns, RecordingSink
from relayenv import FAST_RETRY, send
from test_header_checks import write_table as table
from test_lookup import hold_table


@contextlib.contextmanager
def inside_sink():
    """A sink at [peer]:25 in a namespace of its own; .hop is its next hop."""
    with Netns() as ns, RecordingSink(netns=ns, port=25) as s:
        s.hop = f"[{ns.peer_addr}]"
        yield s


def rcpts_of(sink):
    return sorted(r for msg in sink.messages for r in msg.rcpt_tos)


def routed_moat(moat_factory, default_sink, main_cf, tables):
    """A relay whose relayhost is default_sink and main.cf names the tables
    ({name: text}, written first; main_cf's {name} becomes the path)."""
    m = moat_factory(main_cf_extra=f"relayhost = [127.0.0.1]:{default_sink.port}\n"
                     "mynetworks = 127.0.0.0/8\n" + FAST_RETRY)
    paths = {name: table(m, name, text) for name, text in tables.items()}
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(main_cf.format(**paths))
    return m.start()


def test_transport_maps_route_domains_to_two_inside_sinks(moat_factory):
    """Done-when of issue 8: one domain to an inside sink, another to a
    second, a third by default; .domain, user@domain keys, empty fields."""
    with inside_sink() as a, inside_sink() as b, RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt, "transport_maps = texthash:{transport}\n", {
            "transport": (
                f"one.example      smtp:{a.hop}\n"
                f".one.example     smtp:{a.hop}\n"
                f"two.example      :{b.hop}\n"
                f"vip@three.example smtp:{b.hop}\n"
                "three.example    :\n"),
        })
        send(m, "s@src.example", ["u@one.example", "u@sub.one.example", "u@two.example",
                                  "vip@three.example", "other@three.example",
                                  "u@four.example"], "Subject: t\r\n\r\nbody\r\n")
        a.wait_count(1)
        b.wait_count(1)
        dflt.wait_count(1)
        m.wait_log(r"to=<u@four.example>.*status=sent")
        m.wait_log(r"to=<other@three.example>.*status=sent")
        assert rcpts_of(a) == ["u@one.example", "u@sub.one.example"]
        assert rcpts_of(b) == ["u@two.example", "vip@three.example"]
        assert rcpts_of(dflt) == ["other@three.example", "u@four.example"]
        addr = re.escape(b.hop.strip("[]"))
        assert re.search(rf"to=<u@two.example>, relay={addr}\[{addr}\]:25.*status=sent", m.log())


def test_transport_maps_wildcard_error_and_retry(moat_factory):
    with inside_sink() as a, RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt, "transport_maps = texthash:{transport}\n", {
            "transport": ("gone.example error:5.1.2 this domain has gone\n"
                          "later.example retry:4.4.1 come back later\n"
                          f"*  smtp:{a.hop}\n"),
        })
        send(m, "s@src.example", ["u@gone.example", "u@later.example", "u@any.example"],
             "Subject: t\r\n\r\nbody\r\n")
        a.wait_count(1)
        m.wait_log(r"to=<u@gone.example>.*dsn=5\.1\.2, status=bounced \(this domain has gone\)")
        m.wait_log(r"to=<u@later.example>.*dsn=4\.4\.1, status=deferred \(come back later\)")
        # the bounce of u@gone.example (null sender, to s@src.example) takes
        # the "*" route too, and may already be there
        mail = [x for x in a.messages if x.mail_from == "s@src.example"]
        assert [r for x in mail for r in x.rcpt_tos] == ["u@any.example"]
        assert all(x.mail_from in ("", "<>") and x.rcpt_tos == ["s@src.example"]
                   for x in a.messages if x not in mail), [(x.mail_from, x.rcpt_tos) for x in a.messages]
        assert dflt.messages == []


def test_sender_dependent_relayhost_maps(moat_factory):
    with inside_sink() as a, RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt, "sender_dependent_relayhost_maps = texthash:{sdr}\n", {
            "sdr": f"@special.example {a.hop}\n",
        })
        send(m, "boss@special.example", ["u@out.example"], "Subject: 1\r\n\r\nbody\r\n")
        send(m, "s@plain.example", ["u@out.example"], "Subject: 2\r\n\r\nbody\r\n")
        a.wait_count(1)
        dflt.wait_count(1)
        assert a.messages[0].mail_from == "boss@special.example"
        assert dflt.messages[0].mail_from == "s@plain.example"


def test_recipient_delimiter_in_transport_lookup(moat_factory):
    with inside_sink() as a, RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt, "recipient_delimiter = +\n"
                        "transport_maps = texthash:{transport}\n", {
                            "transport": f"vip@x.example smtp:{a.hop}\n",
                        })
        send(m, "s@src.example", ["vip+tag@x.example", "other+vip@x.example"],
             "Subject: t\r\n\r\nbody\r\n")
        a.wait_count(1)
        dflt.wait_count(1)
        assert rcpts_of(a) == ["vip+tag@x.example"]
        assert rcpts_of(dflt) == ["other+vip@x.example"]


def test_broken_transport_table_defers_and_keeps_the_mail(moat_factory):
    """A table the lookup stage cannot read (made unreadable after start,
    then the stage restarts on the change): the recipient is deferred, never
    bounced or sent elsewhere."""
    with inside_sink() as a, RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt, "transport_maps = pcre:{transport}\n", {
            "transport": f"/@x\\.example$/ smtp:{a.hop}\n",
        })
        path = os.path.join(m.dir, "tables", "transport")
        hold_table(m, f"pcre:{path}")
        with open(path, "w") as f:
            f.write("/unclosed( smtp:\n")
        m.wait_log(r"has changed -- restarting|tables could not be opened")
        send(m, "s@src.example", ["u@x.example"], "Subject: t\r\n\r\nbody\r\n")
        m.wait_log(r"to=<u@x.example>.*dsn=4\.3\.0, status=deferred \(transport_maps lookup failure\)",
                   timeout=60)
        assert dflt.messages == [] and a.messages == []


def rcpt_replies(m, rcpts, sender="s@src.example"):
    import smtplib
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
        s.ehlo("client.test.example")
        s.mail(sender)
        out = [s.rcpt(r) for r in rcpts]
        s.rset()
        return [(c, t.decode()) for c, t in out]


def test_relay_recipient_maps_refuses_unknown_recipients_at_rcpt(moat_factory):
    """Done-when of issue 8: unknown recipients of relay_domains refused at
    RCPT (550 5.1.1, Postfix's text); listed ones, @domain entries and
    domains outside relay_domains pass; the code is the parameter's."""
    with RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt,
                        "relay_domains = inside.example, open.example, other.example\n"
                        "relay_recipient_maps = texthash:{rr}\n"
                        "recipient_delimiter = +\n", {
                            "rr": "known@inside.example x\n@open.example x\n",
                        })
        got = rcpt_replies(m, ["known@inside.example", "Known+tag@INSIDE.example",
                               "nobody@inside.example", "anyone@open.example",
                               "x@other.example", "x@elsewhere.example"])
        assert [c for c, _ in got] == [250, 250, 550, 250, 550, 250], got
        assert got[2][1] == ("5.1.1 <nobody@inside.example>: Recipient address rejected: "
                             "User unknown in relay recipient table"), got
        m.wait_log(r": reject: RCPT from \S+: 550 5\.1\.1 <nobody@inside\.example>: "
                   r"Recipient address rejected: User unknown in relay recipient table")


def test_unknown_relay_recipient_reject_code_and_unlisted_off(moat_factory):
    with RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt,
                        "relay_domains = inside.example\n"
                        "relay_recipient_maps = texthash:{rr}\n"
                        "unknown_relay_recipient_reject_code = 450\n", {"rr": "known@inside.example x\n"})
        got = rcpt_replies(m, ["nobody@inside.example"])
        assert got[0][0] == 450 and got[0][1].startswith("4.1.1 "), got
    with RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt,
                        "relay_domains = inside.example\n"
                        "relay_recipient_maps = texthash:{rr}\n"
                        "smtpd_reject_unlisted_recipient = no\n", {"rr": "known@inside.example x\n"})
        assert rcpt_replies(m, ["nobody@inside.example"])[0][0] == 250


def test_relay_recipient_table_failure_is_a_temporary_reject(moat_factory):
    with RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt,
                        "relay_domains = inside.example\n"
                        "relay_recipient_maps = pcre:{rr}\n", {"rr": "/^known@/ x\n"})
        hold_table(m, f"pcre:{os.path.join(m.dir, 'tables', 'rr')}")
        with open(os.path.join(m.dir, "tables", "rr"), "w") as f:
            f.write("/unclosed( x\n")
        m.wait_log(r"has changed -- restarting|tables could not be opened")
        got = rcpt_replies(m, ["known@inside.example"])
        assert got[0][0] == 451 and "4.3.0" in got[0][1], got


@pytest.mark.parametrize("keyconf,key", [("", "<>"),
                                         ("empty_address_relayhost_maps_lookup_key = <null>\n",
                                          "<null>")])
def test_null_sender_relayhost_key(moat_factory, keyconf, key):
    """The null sender is looked up in sender_dependent_relayhost_maps under
    empty_address_relayhost_maps_lookup_key (default <>)."""
    with inside_sink() as a, RecordingSink() as dflt:
        m = routed_moat(moat_factory, dflt, "sender_dependent_relayhost_maps = texthash:{sdr}\n"
                        + keyconf, {"sdr": f"{key} {a.hop}\n"})
        send(m, "", ["u@out.example"], "Subject: null\r\n\r\nbody\r\n")
        send(m, "s@plain.example", ["u@out.example"], "Subject: 2\r\n\r\nbody\r\n")
        a.wait_count(1)
        dflt.wait_count(1)
        assert a.messages[0].mail_from in ("", "<>")     # how the sink writes the null sender
        assert dflt.messages[0].mail_from == "s@plain.example"
