"""Virtual aliases (issue 8): virtual_alias_maps expanded by cleanup before
the message is queued, virtual_alias_domains refused at RCPT when no alias
knows the recipient, reject_unlisted_sender and _recipient, relocated_maps at RCPT and in
the queue, and the start-up warning for postmaster@ and abuse@. Real SMTP
into moat, real tables through the lookup stage, a recording sink as
relayhost showing where each message went."""
import os
import re
import smtplib

import pytest

from mailpeers import RecordingSink
from relayenv import FAST_RETRY, send
from test_lookup import lookup
from test_route import table


def virtual_moat(moat_factory, sink, main_cf, tables, start=True):
    """A relay to sink (relayhost) whose main.cf names the tables ({name:
    text}; main_cf's {name} becomes the table's path)."""
    m = moat_factory(main_cf_extra=f"relayhost = [127.0.0.1]:{sink.port}\n"
                     "mynetworks = 127.0.0.0/8\n" + FAST_RETRY)
    paths = {name: table(m, name, text) for name, text in tables.items()}
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(main_cf.format(**paths))
    return m.start() if start else m


def rcpts_of(sink):
    return sorted(r for msg in sink.messages for r in msg.rcpt_tos)


def data_reply(m, rcpts, sender="s@src.example"):
    """Send one message; the reply to its end of DATA, as (code, text)."""
    with smtplib.SMTP("127.0.0.1", m.port, timeout=60) as s:
        s.ehlo("client.test.example")
        s.mail(sender)
        for r in rcpts:
            code, msg = s.rcpt(r)
            assert code == 250, (r, code, msg)
        code, msg = s.data(b"Subject: t\r\nTo: <" + rcpts[0].encode() + b">\r\n\r\nbody\r\n")
        return code, msg.decode()


def sent_and_bounced(m, sink, rcpts, kept, bounce_log):
    """A message to rcpts from s@src.example: one recipient bounces in the
    queue (its log line), kept reaches the sink; the DSN's content."""
    send(m, "s@src.example", rcpts, "Subject: t\r\n\r\nbody\r\n")
    m.wait_log(bounce_log, timeout=60)
    sink.wait_count(2)
    got = {tuple(msg.rcpt_tos): msg for msg in sink.messages}
    assert (kept,) in got and ("s@src.example",) in got, got
    return got[("s@src.example",)].content


def rcpt_replies(m, rcpts, sender="s@src.example"):
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
        s.ehlo("client.test.example")
        code, msg = s.mail(sender)
        assert code == 250, (code, msg)
        out = [s.rcpt(r) for r in rcpts]
        s.rset()
        return [(c, t.decode()) for c, t in out]


ALIASES = (
    "sales@corp.example   fred@out.example, bill@out.example\n"
    "fred@out.example     fred@out.example fred-archive@out.example\n"
    "a@corp.example       b@corp.example\n"
    "b@corp.example       c@out.example\n"
    "@catch.example       @other.example\n"
    "user@ext.example     u@out.example\n"
    "dup@corp.example     x@out.example, <x@out.example>\n"
    "bare@corp.example    root\n"
)


def test_virtual_alias_maps_expand_recursively_before_queueing(moat_factory):
    """One to many, recursion (a -> b -> c), an address that maps to itself
    (stops there, kept), @domain keeping the localpart, extensions the key
    did not carry propagated, a bare name completed with @$myorigin,
    duplicates removed; the headers are not touched."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "recipient_delimiter = +\nmyorigin = origin.example\n",
                         {"virtual": ALIASES})
        send(m, "s@src.example", ["sales@corp.example", "a@corp.example", "x+tag@catch.example",
                                  "user+foo@ext.example", "dup@corp.example", "plain@out.example",
                                  "PLAIN@out.example", "bare@corp.example"],
             "Subject: t\r\nTo: <sales@corp.example>\r\n\r\nbody\r\n")
        sink.wait_count(1)
        m.wait_log(r"to=<root@origin.example>.*status=sent")
        assert rcpts_of(sink) == sorted([
            "fred@out.example", "fred-archive@out.example", "bill@out.example",
            "c@out.example", "x+tag@other.example", "u+foo@out.example", "x@out.example",
            "plain@out.example", "root@origin.example"]), rcpts_of(sink)
        assert b"To: <sales@corp.example>" in sink.messages[0].content


def test_without_virtual_alias_maps_recipients_are_unchanged(moat_factory):
    """The same message with no table: every recipient as given (the
    expansion above is the table's doing), duplicates still removed."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "", {})
        send(m, "s@src.example", ["sales@corp.example", "a@corp.example", "a@corp.example"],
             "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        assert rcpts_of(sink) == ["a@corp.example", "sales@corp.example"]


@pytest.mark.parametrize("setting,virtual_keeps,canonical_keeps", [
    ("", False, False),
    ("canonical", False, True),
    ("virtual", True, False),
])
def test_propagate_unmatched_extensions(moat_factory, setting, virtual_keeps, canonical_keeps):
    """propagate_unmatched_extensions (default "canonical, virtual"; the
    default is the first test's): a class it does not name drops the
    extension its table did not match, by an @domain key (catch-all with
    an @other result), a user@domain key, or a canonical key."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "recipient_canonical_maps = texthash:{canon}\n"
                         "recipient_delimiter = +\n"
                         f"propagate_unmatched_extensions = {setting}\n",
                         {"virtual": ALIASES, "canon": "old@legacy.example new@out.example\n"})
        send(m, "s@src.example", ["x+tag@catch.example", "user+foo@ext.example",
                                  "old+bar@legacy.example", "plain+keep@out.example"],
             "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        want = (["x+tag@other.example", "u+foo@out.example"] if virtual_keeps
                else ["x@other.example", "u@out.example"])
        want += ["new+bar@out.example" if canonical_keeps else "new@out.example",
                 "plain+keep@out.example"]
        assert rcpts_of(sink) == sorted(want), rcpts_of(sink)


def sent_lines(m, qid, addr):
    """The status=sent log lines of queue id qid for addr (case folded)."""
    return [l for l in m.log().splitlines() if f"{qid}: to=<" in l and "status=sent" in l
            and f"to=<{addr}>".lower() in l.lower()]


def test_one_rcpt_to_per_address_and_a_log_line_per_record(moat_factory):
    """Three original recipients that aliases send to one address (one in
    other case): cleanup keeps a record for each (their orig_to differ, as
    Postfix's duplicate filter keys them), but the next hop gets that
    address in one RCPT TO, once; every record still has its status=sent
    line, the shared ones naming their original recipient."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n", {
            "virtual": "a@corp.example x@out.example\nb@corp.example x@out.example\n"
                       "c@corp.example X@OUT.example\n"})
        qid = send(m, "s@src.example", ["a@corp.example", "b@corp.example", "c@corp.example",
                                        "y@out.example"], "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        m.wait_log(rf"{qid}: removed")
        assert sorted(sink.messages[0].rcpt_tos) == ["x@out.example", "y@out.example"], \
            sink.messages[0].rcpt_tos
        assert len(sink.messages) == 1
        lines = sent_lines(m, qid, "x@out.example")
        assert len(lines) == 3, lines
        assert any("orig_to=<b@corp.example>" in l for l in lines), lines
        assert any("orig_to=<c@corp.example>" in l for l in lines), lines


def test_a_refused_shared_address_bounces_every_record(moat_factory):
    """The next hop refuses the shared address (550 to its one RCPT TO):
    both records bounce, each with its log line, and the sender's one DSN
    names both original recipients."""
    with RecordingSink() as sink:
        sink.handler.rcpt_rules = {"x@out.example": (550, "5.1.1 no such user")}
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n", {
            "virtual": "a@corp.example x@out.example\nb@corp.example x@out.example\n"})
        qid = send(m, "s@src.example", ["a@corp.example", "b@corp.example"],
                   "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        m.wait_log(rf"{qid}: removed")
        bounced = [l for l in m.log().splitlines()
                   if f"{qid}: to=<x@out.example>" in l and "status=bounced" in l]
        assert len(bounced) == 2 and all("no such user" in l for l in bounced), bounced
        dsn = sink.messages[0]
        assert dsn.rcpt_tos == ["s@src.example"] and len(sink.messages) == 1
        assert b"a@corp.example" in dsn.content and b"b@corp.example" in dsn.content


def test_redirect_of_three_recipients_is_one_delivery(moat_factory):
    """header_checks REDIRECT sends every recipient to one address (each
    keeps its record): the next hop sees that address once; a 4xx from it
    defers every record, and the retry again names it once."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "header_checks = regexp:{hc}\n",
                         {"hc": "/^Subject: redirect-me/ REDIRECT other@out.example\n"})
        sink.handler.data_rules = [(451, "4.3.0 try later")]
        qid = send(m, "s@src.example", ["r1@out.example", "r2@out.example", "r3@out.example"],
                   "Subject: redirect-me\r\n\r\nbody\r\n")
        sink.wait_count(1)
        m.wait_log(rf"{qid}: removed")
        assert sink.messages[0].rcpt_tos == ["other@out.example"], sink.messages[0].rcpt_tos
        assert len(sink.messages) == 1
        deferred = [l for l in m.log().splitlines()
                    if f"{qid}: to=<other@out.example>" in l and "status=deferred" in l]
        assert len(deferred) == 3 and all("try later" in l for l in deferred), deferred
        lines = sent_lines(m, qid, "other@out.example")
        assert len(lines) == 3, lines
        assert all(f"orig_to=<r{k}@out.example>" in "".join(lines) for k in (2, 3)), lines


def test_virtual_alias_loop_is_deferred_at_end_of_data(moat_factory):
    """A loop (a -> b -> a) goes past virtual_alias_recursion_limit: Postfix's
    warning, 451 at the end of DATA, nothing queued, nothing delivered."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n", {
            "virtual": "loop1@corp.example loop2@corp.example\n"
                       "loop2@corp.example loop1@corp.example\n"})
        code, text = data_reply(m, ["loop1@corp.example"])
        assert code == 451 and text.startswith("4.6.0"), (code, text)
        m.wait_log(r"warning: \w+: unreasonable virtual_alias_maps map nesting for "
                   r"loop1@corp\.example -- message not accepted, try again later")
        assert sink.messages == []


@pytest.mark.parametrize("limit,ok", [(5, False), (6, True)])
def test_virtual_alias_recursion_limit(moat_factory, limit, ok):
    """Five rewrites in a chain need a sixth turn to see that the last
    address maps to nothing: limit 5 defers, 6 delivers."""
    chain = "".join(f"h{i}@corp.example h{i + 1}@corp.example\n" for i in range(1, 5))
    chain += "h5@corp.example end@out.example\n"
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         f"virtual_alias_recursion_limit = {limit}\n", {"virtual": chain})
        code, text = data_reply(m, ["h1@corp.example"])
        if ok:
            assert code == 250, (code, text)
            sink.wait_count(1)
            assert rcpts_of(sink) == ["end@out.example"]
        else:
            assert code == 451 and text.startswith("4.6.0"), (code, text)
            m.wait_log(r"map nesting for h1@corp\.example")


@pytest.mark.parametrize("limit,ok", [(4, False), (5, True)])
def test_virtual_alias_expansion_limit(moat_factory, limit, ok):
    """An alias of five addresses: an expansion limit of 4 defers the
    message with Postfix's warning, 5 delivers all of them."""
    five = ", ".join(f"m{i}@out.example" for i in range(5))
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         f"virtual_alias_expansion_limit = {limit}\n",
                         {"virtual": f"list@corp.example {five}\n"})
        code, text = data_reply(m, ["list@corp.example"])
        if ok:
            assert code == 250, (code, text)
            sink.wait_count(1)
            assert len(rcpts_of(sink)) == 5
        else:
            assert code == 451 and text.startswith("4.6.0"), (code, text)
            m.wait_log(r"warning: \w+: unreasonable virtual_alias_maps map expansion size for "
                       r"list@corp\.example -- message not accepted")
            assert sink.messages == []


def test_virtual_alias_lookup_failure_defers_never_delivers_unrewritten(moat_factory):
    """A table the lookup stage cannot read: 451 4.3.0 at the end of DATA
    and a warning naming the map; the unrewritten address gets nothing."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = pcre:{virtual}\n"
                         "smtpd_reject_unlisted_recipient = no\n",   # smtpd asks nothing
                         {"virtual": "/^a@corp\\.example$/ b@out.example\n"})
        path = os.path.join(m.dir, "tables", "virtual")
        # the lookup stage holds the good table before it is broken (else
        # it would open the broken one and never say "has changed")
        assert lookup(m, f"pcre:{path}", "a@corp.example").stdout == "b@out.example\n"
        with open(path, "w") as f:
            f.write("/unclosed( x\n")
        m.wait_log(r"has changed -- restarting|tables could not be opened")
        code, text = data_reply(m, ["a@corp.example"])
        assert code == 451 and text.startswith("4.3.0"), (code, text)
        m.wait_log(r"warning: \w+: virtual_alias_maps map lookup problem for a@corp\.example")
        assert sink.messages == []


def test_virtual_alias_result_that_is_no_address_defers(moat_factory):
    """A table answer that is not a mail address (a control character, an
    unbalanced quote): the message waits, nothing goes anywhere."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n",
                         {"virtual": 'bad@corp.example "unbalanced@out.example\n'})
        code, text = data_reply(m, ["bad@corp.example"])
        assert code == 451 and text.startswith("4.6.0"), (code, text)
        m.wait_log(r"unreasonable virtual_alias_maps result")
        assert sink.messages == []


VALIAS = ("valias.example          anything\n"
          "known@valias.example    k@out.example\n"
          "postmaster@valias.example admin@out.example\n")

STRANGER = ("mynetworks = 192.0.2.0/24\n"
            "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n")


def test_virtual_alias_domain_unknown_user_refused_at_rcpt(moat_factory):
    """virtual_alias_domains defaults to $virtual_alias_maps (the domain is
    a key of the table): its known users are accepted from a stranger
    (they are ours, not relayed), unknown ones refused with Postfix's
    5.1.1 text, other domains are still relay access denied."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n" + STRANGER,
                         {"virtual": VALIAS})
        got = rcpt_replies(m, ["known@valias.example", "KNOWN@VALIAS.example",
                               "nobody@valias.example", "x@elsewhere.example"])
        assert [c for c, _ in got] == [250, 250, 550, 554], got
        assert got[2][1] == ("5.1.1 <nobody@valias.example>: Recipient address rejected: "
                             "User unknown in virtual alias table"), got
        m.wait_log(r"reject: RCPT from \S+: 550 5\.1\.1 <nobody@valias\.example>: Recipient "
                   r"address rejected: User unknown in virtual alias table")
        send(m, "s@src.example", ["known@valias.example"], "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        assert rcpts_of(sink) == ["k@out.example"]


def test_unknown_virtual_alias_reject_code_and_named_domains(moat_factory):
    """virtual_alias_domains as a list of names (a name matches itself
    only, not its subdomains); the code is unknown_virtual_alias_reject_code."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "virtual_alias_domains = named.example\n"
                         "unknown_virtual_alias_reject_code = 450\n",
                         {"virtual": "a@named.example b@out.example\n"})
        got = rcpt_replies(m, ["a@named.example", "z@named.example", "z@sub.named.example"])
        assert [c for c, _ in got] == [250, 450, 250], got
        assert got[1][1].startswith("4.1.1 <z@named.example>: Recipient address rejected: "
                                    "User unknown in virtual alias table"), got


def test_virtual_alias_domain_unknown_user_bounced_in_the_queue(moat_factory):
    """Accepted at RCPT (smtpd_reject_unlisted_recipient = no), the address
    no alias rewrote bounces in qmgr with 5.1.1, and the sender's DSN goes
    out; the known recipient of the same message is delivered."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "smtpd_reject_unlisted_recipient = no\n", {"virtual": VALIAS})
        dsn = sent_and_bounced(m, sink, ["known@valias.example", "nobody@valias.example"],
                               "k@out.example", r"to=<nobody@valias\.example>.*dsn=5\.1\.1, "
                               r"status=bounced \(User unknown in virtual alias table\)")
        assert b"nobody@valias.example" in dsn


def test_virtual_alias_table_failure_at_rcpt_is_451(moat_factory):
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = pcre:{virtual}\n" + STRANGER,
                         {"virtual": "/^known@valias\\.example$/ k@out.example\n"})
        path = os.path.join(m.dir, "tables", "virtual")
        # the lookup stage holds the good table before it is broken (else
        # it would open the broken one and never say "has changed")
        assert lookup(m, f"pcre:{path}", "known@valias.example").stdout == "k@out.example\n"
        with open(path, "w") as f:
            f.write("/unclosed( x\n")
        m.wait_log(r"has changed -- restarting|tables could not be opened")
        got = rcpt_replies(m, ["known@valias.example"])
        assert got[0][0] == 451 and got[0][1].startswith("4.3.0"), got


def test_postmaster_of_own_domain_accepted_through_an_alias(moat_factory):
    """RFC 5321 4.5.1: postmaster@ and abuse@ of mydestination are taken
    when a virtual alias sends them somewhere (a bare "postmaster" key
    counts for a local domain only); other local users are still refused,
    moat having no local delivery."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "mydestination = mx.corp.example\n",
                         {"virtual": "postmaster@mx.corp.example admin@out.example\n"
                                     "abuse abuse-desk@out.example\n"})
        got = rcpt_replies(m, ["postmaster@mx.corp.example", "abuse@MX.corp.example",
                               "root@mx.corp.example"])
        assert [c for c, _ in got] == [250, 250, 550], got
        assert "local delivery is not supported" in got[2][1], got
        send(m, "s@src.example", ["postmaster@mx.corp.example", "abuse@mx.corp.example",
                                  "abuse@remote.example"], "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        assert rcpts_of(sink) == ["abuse-desk@out.example", "abuse@remote.example",
                                  "admin@out.example"]


@pytest.mark.parametrize("how", ["smtpd_reject_unlisted_sender = yes\n",
                                 "smtpd_sender_restrictions = reject_unlisted_sender\n"])
def test_unlisted_sender_refused(moat_factory, how):
    """A sender of a virtual alias domain that no alias knows is refused
    ("Sender address rejected", 5.1.0 as Postfix's smtpd_dsn_fix makes
    it), by the parameter or by the restriction; a known sender, the null
    sender and senders of other domains pass. Without either, the unknown
    sender passes too."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n" + how,
                         {"virtual": VALIAS})
        got = rcpt_replies(m, ["u@out.example"], sender="nobody@valias.example")
        assert got[0] == (550, "5.1.0 <nobody@valias.example>: Sender address rejected: "
                               "User unknown in virtual alias table"), got
        for ok in ("known@valias.example", "", "x@elsewhere.example"):
            assert rcpt_replies(m, ["u@out.example"], sender=ok)[0][0] == 250, ok
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n",
                         {"virtual": VALIAS})
        assert rcpt_replies(m, ["u@out.example"], sender="nobody@valias.example")[0][0] == 250


def test_unlisted_sender_of_a_relay_domain_and_warn_if_reject(moat_factory):
    """relay_recipient_maps lists the valid senders of relay_domains too;
    warn_if_reject turns the refusal into a log line."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "relay_domains = inside.example\n"
                         "relay_recipient_maps = texthash:{rr}\n"
                         "smtpd_sender_restrictions = warn_if_reject reject_unlisted_sender\n",
                         {"rr": "known@inside.example x\n"})
        assert rcpt_replies(m, ["u@out.example"], sender="nobody@inside.example")[0][0] == 250
        m.wait_log(r"reject_warning: RCPT from \S+: 550 5\.1\.0 <nobody@inside\.example>: "
                   r"Sender address rejected: User unknown in relay recipient table")


@pytest.mark.parametrize("rcpt_restrictions,refused", [
    ("reject_unlisted_recipient, permit", True),
    ("check_recipient_maps, permit", True),       # its old name
    ("permit, reject_unlisted_recipient", False),  # the permit decided first
])
def test_reject_unlisted_recipient_where_the_list_puts_it(moat_factory, rcpt_restrictions,
                                                           refused):
    """With the implicit check off (smtpd_reject_unlisted_recipient = no),
    the restriction refuses an unknown user of a virtual alias domain or of
    a relay domain with relay_recipient_maps, with Postfix's replies, only
    when the list reaches it; known users and other domains pass."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "relay_domains = inside.example\n"
                         "relay_recipient_maps = texthash:{rr}\n"
                         "smtpd_reject_unlisted_recipient = no\n"
                         f"smtpd_recipient_restrictions = {rcpt_restrictions}\n",
                         {"virtual": VALIAS, "rr": "known@inside.example x\n"})
        got = rcpt_replies(m, ["nobody@valias.example", "nobody@inside.example",
                               "known@valias.example", "known@inside.example",
                               "x@elsewhere.example"])
        if not refused:
            assert [c for c, _ in got] == [250] * 5, got
            return
        assert got[:2] == [
            (550, "5.1.1 <nobody@valias.example>: Recipient address rejected: "
                  "User unknown in virtual alias table"),
            (550, "5.1.1 <nobody@inside.example>: Recipient address rejected: "
                  "User unknown in relay recipient table")], got
        assert [c for c, _ in got[2:]] == [250, 250, 250], got


def test_reject_unlisted_recipient_in_another_list_and_warn_if_reject(moat_factory):
    """In smtpd_client_restrictions (applied at RCPT, smtpd_delay_reject =
    yes) it checks the recipient too; after warn_if_reject it only logs."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "smtpd_reject_unlisted_recipient = no\n"
                         "smtpd_client_restrictions = reject_unlisted_recipient\n"
                         "smtpd_recipient_restrictions = warn_if_reject "
                         "reject_unlisted_recipient\n", {"virtual": VALIAS})
        got = rcpt_replies(m, ["nobody@valias.example", "known@valias.example"])
        assert [c for c, _ in got] == [550, 250], got
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "smtpd_reject_unlisted_recipient = no\n"
                         "smtpd_recipient_restrictions = warn_if_reject "
                         "reject_unlisted_recipient\n", {"virtual": VALIAS})
        assert rcpt_replies(m, ["nobody@valias.example"])[0][0] == 250
        m.wait_log(r"reject_warning: RCPT from \S+: 550 5\.1\.1 <nobody@valias\.example>: "
                   r"Recipient address rejected: User unknown in virtual alias table")


RELOCATED = ("old@corp.example   new@else.example\n"
             "@gone.example      contact@else.example\n")


def test_relocated_recipient_refused_at_rcpt(moat_factory):
    """relocated_maps at RCPT: Postfix's 550 5.1.6 "User has moved to",
    for user@domain and @domain keys; others pass; a sender that moved is
    refused with 5.1.0 when unlisted senders are."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "relocated_maps = texthash:{relocated}\n"
                         "smtpd_reject_unlisted_sender = yes\n", {"relocated": RELOCATED})
        got = rcpt_replies(m, ["old@corp.example", "x@gone.example", "other@corp.example"])
        assert [c for c, _ in got] == [550, 550, 250], got
        assert got[0][1] == ("5.1.6 <old@corp.example>: Recipient address rejected: "
                             "User has moved to new@else.example"), got
        assert got[1][1].endswith("User has moved to contact@else.example"), got
        got = rcpt_replies(m, ["u@out.example"], sender="old@corp.example")
        assert got[0] == (550, "5.1.0 <old@corp.example>: Sender address rejected: "
                               "User has moved to new@else.example"), got


def test_relocated_recipient_bounced_in_the_queue(moat_factory):
    """Mail already accepted (smtpd_reject_unlisted_recipient = no, as for
    mail queued before the table changed) bounces in qmgr with 5.1.6; the
    sender's DSN says where the user went; the other recipient is sent."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "relocated_maps = texthash:{relocated}\n"
                         "smtpd_reject_unlisted_recipient = no\n", {"relocated": RELOCATED})
        dsn = sent_and_bounced(m, sink, ["old@corp.example", "stay@corp.example"],
                               "stay@corp.example", r"to=<old@corp\.example>.*dsn=5\.1\.6, "
                               r"status=bounced \(User has moved to new@else\.example\)")
        assert b"User has moved to new@else.example" in dsn


EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
REFUSED = r"warning: mail to (.*) would be refused: no virtual alias sends it anywhere"


def test_startup_warns_once_when_postmaster_and_abuse_would_be_refused(moat_factory):
    """Domains of mydestination and virtual_alias_domains whose postmaster@
    or abuse@ no alias takes are named, once, at start-up; localhost and
    tables' domains are not."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "mydestination = mx.corp.example, localhost\n"
                         "virtual_alias_domains = valias.example, texthash:{virtual}\n",
                         {"virtual": "abuse@mx.corp.example a@out.example\n"
                                     "postmaster@valias.example a@out.example\n"})
        m.wait_log(REFUSED)
        send(m, "s@src.example", ["u@out.example"], "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        found = re.findall(REFUSED, m.log())
        assert found == ["postmaster@mx.corp.example, abuse@valias.example"], m.log()


def test_no_startup_warning_with_the_example_aliases(moat_factory):
    """The example configuration's virtual table (bare postmaster and abuse
    keys) takes both for $myhostname: no warning, and the mail is taken."""
    with open(os.path.join(EXAMPLES, "bastion-relay", "virtual")) as f:
        aliases = f.read()
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "mydestination = $myhostname, localhost\n", {"virtual": aliases})
        send(m, "s@src.example", ["postmaster@mx.test.example", "abuse@mx.test.example"],
             "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        assert rcpts_of(sink) == ["abuse@example.net", "postmaster@example.net"]
        assert not re.search(REFUSED, m.log()), m.log()


def test_bare_alias_key_counts_for_myorigin_at_rcpt_and_in_cleanup(moat_factory):
    """A bare "info" key matches info@$myorigin even when $myorigin is not
    in mydestination (virtual(5)): smtpd accepts what cleanup will rewrite."""
    with RecordingSink() as sink:
        m = virtual_moat(moat_factory, sink, "virtual_alias_maps = texthash:{virtual}\n"
                         "myorigin = origin.example\nvirtual_alias_domains = origin.example\n",
                         {"virtual": "info i@out.example\n"})
        got = rcpt_replies(m, ["info@origin.example", "other@origin.example"])
        assert [c for c, _ in got] == [250, 550], got
        send(m, "s@src.example", ["info@origin.example"], "Subject: t\r\n\r\nbody\r\n")
        sink.wait_count(1)
        assert rcpts_of(sink) == ["i@out.example"]
