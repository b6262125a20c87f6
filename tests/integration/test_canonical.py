"""Address rewriting in cleanup (issue 8): canonical_maps,
sender_canonical_maps, recipient_canonical_maps and their classes,
masquerade_domains, always_bcc, sender_bcc_maps and recipient_bcc_maps.
Real SMTP into moat, real tables asked through the lookup stage, the
envelope and headers seen at a recording next hop (relayhost)."""
import os
import re
import smtplib
import time

import pytest

from mailpeers import Netns, free_port
from relayenv import FAST_RETRY, relay_main_cf, send
from test_header_checks import write_table
from test_lookup import hold_table, start_fails

HEADERS = (b"From: \"Old Name\" <old@src.example>\r\n"
           b"To: Bob <bob@dst.example>, x+tag@legacy.example (a comment)\r\n"
           b"Cc: team: bob@dst.example;\r\n"
           b"Reply-To: old@src.example\r\n"
           b"Subject: about old@src.example\r\n")
CANONICAL = ("old@src.example new@src.example\n"
             "bob@dst.example robert@dst.example\n"
             "@legacy.example @dst.example\n")


def rewriting_moat(moat_factory, sink, tables, extra="", start=True):
    """A relay to sink with main.cf's {param: text} tables (texthash, or
    "type:" before the text) and extra lines."""
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra))
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        for param, text in tables.items():
            typ, text = text.split(":", 1) if text.startswith("regexp:") else ("texthash", text)
            f.write(f"{param} = {typ}:{write_table(m, param, text)}\n")
    return m.start() if start else m


def headers_of(msg):
    return msg.content.split(b"\r\n\r\n", 1)[0]


def header(msg, name):
    m = re.search(rb"^" + name + rb": ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", headers_of(msg), re.M)
    return m.group(1) if m else None


def one(moat_factory, sink, tables, extra="", sender="old@src.example",
        rcpts=("bob@dst.example", "x+tag@legacy.example"), headers=HEADERS):
    m = rewriting_moat(moat_factory, sink, tables, extra)
    send(m, sender, list(rcpts), headers + b"\r\nbody\r\n")
    return m, sink.wait_count(1)[0]


def test_canonical_maps_rewrite_envelope_and_headers_in_place(moat_factory, sink):
    """Every class by default; @domain keeps the user; the unmatched +tag
    propagates; display names, comments and groups stay as written; a
    Subject that mentions an address is no address header."""
    m, got = one(moat_factory, sink, {"canonical_maps": CANONICAL}, "recipient_delimiter = +\n")
    assert got.mail_from == "new@src.example"
    assert sorted(got.rcpt_tos) == ["robert@dst.example", "x+tag@dst.example"]
    assert header(got, b"From") == b"\"Old Name\" <new@src.example>"
    assert header(got, b"To") == b"Bob <robert@dst.example>, x+tag@dst.example (a comment)"
    assert header(got, b"Cc") == b"team: robert@dst.example;"
    assert header(got, b"Reply-To") == b"new@src.example"
    assert header(got, b"Subject") == b"about old@src.example"
    m.wait_log(r"from=<new@src\.example>")


OLD_FROM, NEW_FROM = b"\"Old Name\" <old@src.example>", b"\"Old Name\" <new@src.example>"
OLD_TO = b"Bob <bob@dst.example>, x+tag@legacy.example (a comment)"
NEW_TO = b"Bob <robert@dst.example>, x+tag@dst.example (a comment)"
OLD_RCPTS, NEW_RCPTS = ["bob@dst.example", "x+tag@legacy.example"], ["robert@dst.example",
                                                                     "x+tag@dst.example"]


@pytest.mark.parametrize("classes, sender, from_, rcpts, to", [
    ("envelope_recipient, header_recipient", "old@src.example", OLD_FROM, NEW_RCPTS, NEW_TO),
    ("envelope_sender", "new@src.example", OLD_FROM, OLD_RCPTS, OLD_TO),
    ("header_sender, header_recipient", "old@src.example", NEW_FROM, OLD_RCPTS, NEW_TO),
    ("envelope_recipient", "old@src.example", OLD_FROM, NEW_RCPTS, OLD_TO),
    ("header_sender", "old@src.example", NEW_FROM, OLD_RCPTS, OLD_TO),
])
def test_canonical_classes_each_on_and_off(moat_factory, sink, classes, sender, from_, rcpts, to):
    _, got = one(moat_factory, sink, {"canonical_maps": CANONICAL},
                 f"canonical_classes = {classes}\n")
    assert got.mail_from == sender
    assert sorted(got.rcpt_tos) == rcpts
    assert header(got, b"From") == from_
    assert header(got, b"To") == to


def test_sender_and_recipient_canonical_maps_first_then_canonical_maps(moat_factory, sink):
    """sender_canonical_maps only for senders, recipient_canonical_maps only
    for recipients, each before canonical_maps, whose result is looked up
    again (old -> mid by the sender map, mid -> final by canonical_maps)."""
    _, got = one(moat_factory, sink, {
        "sender_canonical_maps": "old@src.example mid@src.example\nbob@dst.example no@dst.example\n",
        "recipient_canonical_maps": "bob@dst.example rmid@dst.example\nold@src.example no@src.example\n",
        "canonical_maps": "mid@src.example final@src.example\nrmid@dst.example rfinal@dst.example\n"
                          "final@src.example final@src.example\n",
    }, rcpts=("bob@dst.example",))
    assert got.mail_from == "final@src.example"
    assert got.rcpt_tos == ["rfinal@dst.example"]
    assert header(got, b"From") == b"\"Old Name\" <final@src.example>"
    assert header(got, b"Reply-To") == b"final@src.example"
    assert header(got, b"To").startswith(b"Bob <rfinal@dst.example>")


def test_recipient_canonical_classes_and_local_user_key(moat_factory, sink):
    """recipient_canonical_classes = envelope_recipient leaves To alone; a
    bare "user" key matches only an address in a local domain ($myorigin,
    $mydestination): the sender joe@$myhostname, not joe@other.example."""
    m = rewriting_moat(moat_factory, sink, {
        "recipient_canonical_maps": "bob@dst.example robert@dst.example\n",
        "sender_canonical_maps": "joe jsmith@src.example\n",
    }, "recipient_canonical_classes = envelope_recipient\n")
    send(m, "joe@mx.test.example", ["bob@dst.example"], HEADERS + b"\r\nbody\r\n")
    send(m, "joe@other.example", ["bob@dst.example"], HEADERS + b"\r\nbody\r\n")
    got = sink.wait_count(2)
    assert sorted(g.mail_from for g in got) == ["joe@other.example", "jsmith@src.example"]
    assert all(g.rcpt_tos == ["robert@dst.example"] for g in got)
    assert all(header(g, b"To") == OLD_TO for g in got)


def test_sender_canonical_classes_and_extension_not_propagated(moat_factory, sink):
    """sender_canonical_classes = envelope_sender leaves From alone;
    propagate_unmatched_extensions without canonical drops +tag."""
    _, got = one(moat_factory, sink, {"sender_canonical_maps": "old@src.example new@src.example\n",
                                      "recipient_canonical_maps": "x@legacy.example y@dst.example\n"},
                 "recipient_delimiter = +\nsender_canonical_classes = envelope_sender\n"
                 "propagate_unmatched_extensions = virtual\n",
                 rcpts=("x+tag@legacy.example",))
    assert got.mail_from == "new@src.example"
    assert header(got, b"From") == b"\"Old Name\" <old@src.example>"
    assert got.rcpt_tos == ["y@dst.example"]
    assert b"x+tag@legacy.example" not in header(got, b"To")


def data_reply(m, sender, rcpts, body):
    """The reply moat gives the message: (code, text) of the first refusal,
    MAIL FROM, RCPT or the end of DATA."""
    with smtplib.SMTP("127.0.0.1", m.port, timeout=60) as s:
        s.ehlo("client.test.example")
        code, msg = s.mail(sender)
        if code != 250:
            return code, msg
        for r in rcpts:
            code, msg = s.rcpt(r)
            if code != 250:
                return code, msg
        try:
            return s.data(body)
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error


def test_canonical_loop_defers_the_message(moat_factory, sink):
    """a -> b -> a ...: after 10 rewrites the message is deferred (451
    4.3.0) with a warning, never passed on half rewritten."""
    m = rewriting_moat(moat_factory, sink, {"canonical_maps": "a@loop.example b@loop.example\n"
                                                               "b@loop.example a@loop.example\n"})
    code, msg = data_reply(m, "s@src.example", ["a@loop.example"], b"Subject: x\r\n\r\nbody\r\n")
    assert code == 451 and msg.startswith(b"4.3.0"), (code, msg)
    m.wait_log(r"warning: [0-9A-Z]+: canonical_maps map lookup problem for [ab]@loop\.example "
               r"\(unreasonable nesting\)")
    send(m, "s@src.example", ["c@loop.example"], b"Subject: y\r\n\r\nbody\r\n")
    assert [g.rcpt_tos for g in sink.wait_count(1)] == [["c@loop.example"]]


@pytest.mark.parametrize("param, table, sender, rcpt, key", [
    ("canonical_maps", "/^old@/ new@src.example\n", "old@src.example", "r@dst.example",
     "old@src.example"),
    ("recipient_bcc_maps", "/./ archive@arch.example\n", "a@src.example", "r@dst.example",
     "r@dst.example"),
])
def test_failing_table_defers_never_passes_unrewritten(moat_factory, sink, param, table, sender,
                                                       rcpt, key):
    """A table the lookup stage can no longer read (rewritten broken under
    the running stage): 451 4.3.0 and a warning naming the parameter; the
    message is never accepted unrewritten or without its archive copy."""
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY))
    path = write_table(m, param, table)
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"{param} = pcre:{path}\n")
    m.start()
    hold_table(m, f"pcre:{path}")
    with open(path, "w") as f:
        f.write("/unclosed( x@y\n")
    m.wait_log(r"has changed -- restarting|tables could not be opened")
    code, msg = data_reply(m, sender, [rcpt], b"Subject: x\r\n\r\nbody\r\n")
    assert code == 451 and msg.startswith(b"4.3.0"), (code, msg)
    m.wait_log(rf"warning: [0-9A-Z]+: {param} map lookup problem for {re.escape(key)}")
    assert os.listdir(os.path.join(m.queue, "incoming")) == []


def test_bad_table_answer_defers(moat_factory, sink):
    """A value that is no address (a space inside) is never queued."""
    m = rewriting_moat(moat_factory, sink, {"canonical_maps": "old@src.example <a b@c>\n"})
    code, msg = data_reply(m, "old@src.example", ["r@dst.example"], b"Subject: x\r\n\r\nbody\r\n")
    assert code == 451 and msg.startswith(b"4.3.0"), (code, msg)


MASQ_HEADERS = (b"From: user@host.example.com\r\n"
                b"Sender: root@host.example.com\r\n"
                b"To: a@www.example.com, b@x.sub.example.com, c@example.com\r\n"
                b"Subject: masq\r\n")


def test_masquerade_domains_with_exception_and_classes(moat_factory, sink):
    """host.example.com is hidden behind example.com in the default classes
    (envelope sender, header sender, header recipient), not in envelope
    recipients; root is exempt; !sub.example.com keeps its hosts."""
    _, got = one(moat_factory, sink, {},
                 "masquerade_domains = !sub.example.com, example.com\n"
                 "masquerade_exceptions = root\n",
                 sender="user@host.example.com",
                 rcpts=("a@www.example.com", "b@x.sub.example.com"), headers=MASQ_HEADERS)
    assert got.mail_from == "user@example.com"
    assert sorted(got.rcpt_tos) == ["a@www.example.com", "b@x.sub.example.com"]
    assert header(got, b"From") == b"user@example.com"
    assert header(got, b"Sender") == b"root@host.example.com"
    assert header(got, b"To") == b"a@example.com, b@x.sub.example.com, c@example.com"


def test_masquerade_classes_envelope_recipient(moat_factory, sink):
    _, got = one(moat_factory, sink, {},
                 "masquerade_domains = example.com\nmasquerade_classes = envelope_recipient\n",
                 sender="user@host.example.com", rcpts=("a@www.example.com",),
                 headers=MASQ_HEADERS)
    assert got.mail_from == "user@host.example.com"
    assert got.rcpt_tos == ["a@example.com"]
    assert header(got, b"From") == b"user@host.example.com"
    assert header(got, b"To").startswith(b"a@www.example.com")


def test_values_cleanup_cannot_honour_stop_start_with_file_and_line(moat_factory, sink):
    for bad, where in (("masquerade_domains = example.com, not a domain!\n", "masquerade_domains"),
                       ("masquerade_exceptions = hash:/etc/moat/users\n", "masquerade_exceptions"),
                       ("always_bcc = archive\n", "always_bcc"),
                       ("canonical_classes = envelope_sender, headers\n", "canonical_classes")):
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, bad))
        err = start_fails(m)
        assert re.search(r"main\.cf:\d+: parameter " + where, err), (bad, err)


ARCHIVE = "archive@arch.example"


def wait_removed(m, n, timeout=90):
    """Every delivery of n messages is done: qmgr removed their files."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(re.findall(r"qmgr\[\d+\]: [0-9A-Z]+: removed", m.log())) >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} messages removed:\n" + m.log())


def rcpt_count(sink, addr):
    return sum(g.rcpt_tos.count(addr) for g in sink.messages)


def test_always_bcc_archives_every_message_exactly_once(moat_factory, sink):
    """The archiving case: always_bcc and a recipient_bcc_maps entry that
    names the same archive for every recipient; three messages, one with
    50 recipients: the archive gets each message once, and nothing else
    changes for the recipients."""
    m = rewriting_moat(moat_factory, sink, {"recipient_bcc_maps": f"@dst.example {ARCHIVE}\n"},
                       f"always_bcc = {ARCHIVE}\n")
    many = [f"u{i}@dst.example" for i in range(50)]
    send(m, "a@src.example", ["one@dst.example"], b"Subject: m1\r\n\r\nbody\r\n")
    send(m, "a@src.example", many, b"Subject: m2\r\n\r\nbody\r\n")
    send(m, "a@src.example", ["one@other.example"], b"Subject: m3\r\n\r\nbody\r\n")
    wait_removed(m, 3)
    assert rcpt_count(sink, ARCHIVE) == 3
    subjects = sorted(re.search(rb"Subject: (\S+)", g.content).group(1)
                      for g in sink.messages if ARCHIVE in g.rcpt_tos)
    assert subjects == [b"m1", b"m2", b"m3"]
    got = sorted(r for g in sink.messages for r in g.rcpt_tos if r != ARCHIVE)
    assert got == sorted(["one@dst.example", "one@other.example"] + many)
    assert all(b"archive" not in headers_of(g) for g in sink.messages)


def test_sender_and_recipient_bcc_maps(moat_factory, sink):
    """sender_bcc_maps by the sender (after canonical rewriting), 
    recipient_bcc_maps by each recipient; a BCC address is rewritten as a
    recipient; mail to nobody listed gets no copy."""
    m = rewriting_moat(moat_factory, sink, {
        "sender_bcc_maps": "boss@src.example sec@arch.example\n",
        "recipient_bcc_maps": "@legal.example legal-copy@arch.example\n",
        "sender_canonical_maps": "chief@src.example boss@src.example\n",
        "recipient_canonical_maps": "legal-copy@arch.example legal@arch.example\n",
    })
    send(m, "chief@src.example", ["x@dst.example"], b"Subject: s1\r\n\r\nbody\r\n")
    send(m, "other@src.example", ["y@legal.example", "z@dst.example"],
         b"Subject: s2\r\n\r\nbody\r\n")
    send(m, "other@src.example", ["w@dst.example"], b"Subject: s3\r\n\r\nbody\r\n")
    wait_removed(m, 3)
    by_subject = {}
    for g in sink.messages:
        subj = re.search(rb"Subject: (\S+)", g.content).group(1)
        by_subject.setdefault(subj, []).extend(g.rcpt_tos)
    assert sorted(by_subject[b"s1"]) == ["sec@arch.example", "x@dst.example"]
    assert sorted(by_subject[b"s2"]) == ["legal@arch.example", "y@legal.example", "z@dst.example"]
    assert by_subject[b"s3"] == ["w@dst.example"]


def test_bcc_copy_asks_for_no_dsn(moat_factory, sink):
    """A BCC recipient that bounces tells the sender nothing (NOTIFY=NEVER);
    a real recipient that bounces in the same delivery does."""
    sink.handler.rcpt_rules[ARCHIVE] = (550, "5.1.1 archive refuses")
    sink.handler.rcpt_rules["gone@dst.example"] = (550, "5.1.1 no such user")
    m = rewriting_moat(moat_factory, sink, {}, f"always_bcc = {ARCHIVE}\n")
    send(m, "a@src.example", ["gone@dst.example", "ok@dst.example"],
         b"Subject: dsn\r\n\r\nbody\r\n")
    m.wait_log(r"to=<archive@arch\.example>.*status=bounced")
    m.wait_log(r"to=<gone@dst\.example>.*status=bounced")
    deadline = time.time() + 60
    while time.time() < deadline and not [g for g in sink.messages if g.mail_from in ("", "<>")]:
        time.sleep(0.1)
    bounces = [g for g in sink.messages if g.mail_from in ("", "<>")]
    assert len(bounces) == 1 and bounces[0].rcpt_tos == ["a@src.example"], m.log()
    assert b"gone@dst.example" in bounces[0].content
    assert b"archive@arch.example" not in bounces[0].content
    # the bounce itself is moat's own mail: no archive copy of it
    assert rcpt_count(sink, ARCHIVE) == 0


def test_remote_client_headers_stay_envelope_is_rewritten(moat_factory, sink):
    """As Postfix (local_header_rewrite_clients = permit_inet_interfaces,
    remote_header_rewrite_domain empty): the headers of mail from a remote
    client keep their addresses; its envelope is rewritten all the same."""
    with Netns() as ns:
        port = free_port()
        m = rewriting_moat(moat_factory, sink, {"canonical_maps": CANONICAL},
                           f"mynetworks = {ns.peer_addr}/32\n", start=False)
        with open(os.path.join(m.confdir, "master.cf"), "a") as f:
            f.write(f"{ns.host_addr}:{port} inet n - y - 2 smtpd\n")
        m.start()

        def remote_send():
            with smtplib.SMTP(ns.host_addr, port, timeout=30) as c:
                c.ehlo("remote.test.example")
                c.sendmail("old@src.example", ["bob@dst.example"], HEADERS + b"\r\nbody\r\n")
        ns.run(remote_send)
        got = sink.wait_count(1)[0]
        assert got.mail_from == "new@src.example" and got.rcpt_tos == ["robert@dst.example"]
        assert header(got, b"From") == OLD_FROM
        assert header(got, b"To") == OLD_TO


def test_header_checks_redirect_takes_the_bcc_copies_too(moat_factory, sink):
    """Postfix's REDIRECT overrides every recipient of the message, the
    automatic BCC copies included: the archive gets nothing, the redirect
    target gets the message (moat does as Postfix here)."""
    m = rewriting_moat(moat_factory, sink, {
        "header_checks": "regexp:/^Subject: redirect-me/ REDIRECT jail@dst.example\n"},
        f"always_bcc = {ARCHIVE}\n")
    send(m, "a@src.example", ["r@dst.example"], b"Subject: redirect-me\r\n\r\nbody\r\n")
    wait_removed(m, 1)
    got = [r for g in sink.messages for r in g.rcpt_tos]
    assert ARCHIVE not in got and set(got) == {"jail@dst.example"}
