"""Routing with tables (issue 8): transport_maps, relay_domains and
mydestination as tables, sender_dependent_relayhost_maps, asked by qmgr of
the lookup stage. Real tables; the default next hop is relayhost on
loopback, the inside hosts are sinks on port 25 in network namespaces of
their own (the smtp stage refuses loopback next hops it was not configured
with, and connects only to the ports of its configuration)."""
import contextlib
import os
import re

from mailpeers import Netns, RecordingSink
from relayenv import FAST_RETRY, send


@contextlib.contextmanager
def inside_sink():
    """A sink at [peer]:25 in a namespace of its own; .hop is its next hop."""
    with Netns() as ns, RecordingSink(netns=ns, port=25) as s:
        s.hop = f"[{ns.peer_addr}]"
        yield s


def table(m, name, text):
    d = os.path.join(m.dir, "tables")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


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
        assert rcpts_of(a) == ["u@any.example"]
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
        with open(path, "w") as f:
            f.write("/unclosed( smtp:\n")
        m.wait_log(r"has changed -- restarting")
        send(m, "s@src.example", ["u@x.example"], "Subject: t\r\n\r\nbody\r\n")
        m.wait_log(r"to=<u@x.example>.*dsn=4\.3\.0, status=deferred \(transport_maps lookup failure\)",
                   timeout=60)
        assert dflt.messages == [] and a.messages == []
