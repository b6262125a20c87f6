"""header_checks(5) in cleanup, end to end: real SMTP into moat, the tables
asked through the lookup stage, the result seen at a recording next hop, in
the queue directory and in the log (Postfix's cleanup log lines)."""
import os
import re
import smtplib
import time

import pytest

from relayenv import FAST_RETRY, relay_main_cf, send

SENDER = "a@src.example"
RCPT = "b@dst.example"

ACTIONS = r"""
/^Subject: reject-me/		REJECT no thanks
/^Subject: coded-me/		REJECT 5.7.9 coded refusal
/^Subject: defer-me/		REJECT 4.7.0 come back later
/^Subject: warn-me/		WARN watched
/^Subject: info-me/		INFO noted
/^Subject: hold-me/		HOLD held by test
/^Subject: discard-me/		DISCARD dropped by test
/^Subject: redirect-me/		REDIRECT other@dst.example
/^Subject: bcc-me/		BCC archive@dst.example
/^Subject: prepend-me/		PREPEND X-Prepended: yes
/^Subject: replace-me (.*)/	REPLACE Subject: replaced $1
/^X-Drop-Me:/			IGNORE
/^Subject: dunno-me/		DUNNO
/^Subject: ok-me/		OK
/^Subject: bogus-me/		FROBNICATE now
/^Content-Type: text\/x-bad/	REJECT 5.7.2 MIME header refused
"""


def write_table(m, name, text):
    d = os.path.join(m.dir, "tables")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def checks_moat(moat_factory, sink, tables, extra="", start=True):
    """A relay to sink whose main.cf sets {param: (type, text)} tables."""
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra))
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        for param, (typ, text) in tables.items():
            f.write(f"{param} = {typ}:{write_table(m, param, text)}\n")
    return m.start() if start else m


def message(subject, extra=b"", body=b"body line\r\n"):
    return (b"From: <a@src.example>\r\nTo: <b@dst.example>\r\nSubject: " + subject
            + b"\r\n" + extra + b"\r\n" + body)


def data_reply(m, body, rcpts=(RCPT,)):
    with smtplib.SMTP("127.0.0.1", m.port, timeout=60) as s:
        s.ehlo("client.test.example")
        s.mail(SENDER)
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        return s.data(body)


def queue_files(m, q):
    return os.listdir(os.path.join(m.queue, q))


def wait_until(cond, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(what)


@pytest.fixture
def actions(moat_factory, sink):
    return checks_moat(moat_factory, sink, {"header_checks": ("regexp", ACTIONS)})


def test_reject_with_postfix_log_line_and_nothing_queued(actions):
    m = actions
    code, msg = data_reply(m, message(b"reject-me please"))
    assert (code, msg) == (550, b"5.7.1 no thanks")
    m.wait_log(r"cleanup\[\d+\]: [0-9A-Z]+: reject: header Subject: reject-me please from "
               r"unknown\[127\.0\.0\.1\]; from=<a@src\.example> to=<b@dst\.example> "
               r"proto=ESMTP helo=<client\.test\.example>: 5\.7\.1 no thanks")
    assert queue_files(m, "incoming") == [] and queue_files(m, "hold") == []
    code, msg = data_reply(m, message(b"coded-me"))
    assert (code, msg) == (550, b"5.7.9 coded refusal")
    code, msg = data_reply(m, message(b"defer-me"))
    assert code == 451 and msg == b"4.7.0 come back later"


def test_folded_header_is_matched_as_one_logical_header(moat_factory, sink):
    """Postfix joins a folded header's lines with "\n": the pattern sees "\n\t"."""
    m = checks_moat(moat_factory, sink, {
        "header_checks": ("pcre", "/^Subject: folded-me\\n\\tsecond/ REJECT folded header seen whole\n"),
    })
    code, msg = data_reply(m, message(b"folded-me\r\n\tsecond line"))
    assert (code, msg) == (550, b"5.7.1 folded header seen whole")
    send(m, SENDER, [RCPT], message(b"folded-me second line"))    # one line: no match
    sink.wait_count(1)


def test_warn_info_dunno_ok_unknown_deliver_unchanged(actions, sink):
    m = actions
    for subj in (b"warn-me", b"info-me", b"dunno-me", b"ok-me", b"bogus-me"):
        send(m, SENDER, [RCPT], message(subj))
    got = sink.wait_count(5)
    subjects = sorted(re.search(rb"Subject: (\S+)", g.content).group(1) for g in got)
    assert subjects == sorted([b"warn-me", b"info-me", b"dunno-me", b"ok-me", b"bogus-me"])
    m.wait_log(r": warning: header Subject: warn-me from unknown\[127\.0\.0\.1\]; "
               r"from=<a@src\.example> to=<b@dst\.example> proto=ESMTP "
               r"helo=<client\.test\.example>: watched")
    m.wait_log(r": info: header Subject: info-me from .*: noted")
    m.wait_log(r"warning: [0-9A-Z]+: OK action in header_checks map is DUNNO")
    m.wait_log(r"warning: [0-9A-Z]+: unknown command in header_checks map: FROBNICATE")


def test_prepend_replace_ignore_edit_the_headers(actions, sink):
    m = actions
    send(m, SENDER, [RCPT], message(b"prepend-me"))
    send(m, SENDER, [RCPT], message(b"replace-me abc", b"X-Drop-Me: gone\r\nX-Keep: kept\r\n"))
    got = sorted(sink.wait_count(2), key=lambda g: b"replace" in g.content)
    assert b"X-Prepended: yes\r\nSubject: prepend-me\r\n" in got[0].content
    assert b"Subject: replaced abc\r\n" in got[1].content
    assert b"replace-me" not in got[1].content
    assert b"X-Drop-Me" not in got[1].content and b"X-Keep: kept\r\n" in got[1].content
    m.wait_log(r": prepend: header Subject: prepend-me from .*: X-Prepended: yes")
    m.wait_log(r": replace: header Subject: replace-me abc from .*: Subject: replaced abc")


def test_hold_commits_into_hold_and_nothing_is_delivered(actions, sink):
    m = actions
    qid = send(m, SENDER, [RCPT], message(b"hold-me"))
    m.wait_log(rf"{qid}: hold: header Subject: hold-me from .*: held by test")
    assert qid in queue_files(m, "hold")
    assert oct(os.stat(os.path.join(m.queue, "hold", qid)).st_mode & 0o777) == "0o700"
    send(m, SENDER, [RCPT], message(b"after-hold"))
    (got,) = sink.wait_count(1)
    assert b"after-hold" in got.content          # the held one never went out
    assert qid in queue_files(m, "hold")


def test_discard_says_250_and_keeps_nothing(actions, sink):
    m = actions
    qid = send(m, SENDER, [RCPT], message(b"discard-me"))
    m.wait_log(rf"{qid}: discard: header Subject: discard-me from .*: dropped by test")
    send(m, SENDER, [RCPT], message(b"after-discard"))
    (got,) = sink.wait_count(1)
    assert b"after-discard" in got.content
    for q in ("incoming", "active", "deferred", "hold"):
        assert qid not in queue_files(m, q)


def test_redirect_sends_every_recipient_to_the_address(actions, sink):
    m = actions
    send(m, SENDER, [RCPT, "c@dst.example"], message(b"redirect-me"))
    m.wait_log(r": redirect: header Subject: redirect-me from .*: other@dst\.example")
    got = sink.wait_count(1)
    rcpts = sorted(r for g in got for r in g.rcpt_tos)
    assert set(rcpts) == {"other@dst.example"}, rcpts


def test_bcc_adds_a_recipient(actions, sink):
    m = actions
    send(m, SENDER, [RCPT], message(b"bcc-me"))
    wait_until(lambda: sorted(r for g in sink.messages for r in g.rcpt_tos)
               == ["archive@dst.example", RCPT], "BCC copy not delivered")


def test_mime_headers_of_the_message_are_checked_with_header_checks(actions):
    """mime_header_checks defaults to $header_checks (Postfix): the same tables."""
    code, msg = data_reply(actions, message(b"m", b"Content-Type: text/x-bad\r\n"))
    assert (code, msg) == (550, b"5.7.2 MIME header refused")


def test_pcre_table_and_dollar_expansion(moat_factory, sink):
    m = checks_moat(moat_factory, sink, {
        "header_checks": ("pcre", "/^Subject:\\s+spam-(\\w+)/ REJECT 5.7.1 no $1 here\n"),
    })
    code, msg = data_reply(m, message(b"spam-pills"))
    assert (code, msg) == (550, b"5.7.1 no pills here")


def test_our_own_received_header_is_checked(moat_factory, sink):
    """header_checks see the Received header moat adds, as Postfix's own:
    a rule on the client's address in it rejects; another edits it."""
    m = checks_moat(moat_factory, sink, {"header_checks": ("pcre",
        "/^Received: from .*\\(unknown \\[127\\.0\\.0\\.1\\]\\).*by .* with ESMTP id (\\w+)/ "
        "REJECT no mail from loopback ($1)\n")})
    code, msg = data_reply(m, message(b"r"))
    assert code == 550 and re.match(rb"5\.7\.1 no mail from loopback \(\w+\)$", msg), (code, msg)
    m.wait_log(r": reject: header Received: from client\.test\.example \(unknown "
               r"\[127\.0\.0\.1\]\)")
    assert queue_files(m, "incoming") == []


def test_catastrophic_pattern_on_a_1mb_header_defers_and_mail_keeps_flowing(moat_factory, sink):
    """/^(a+)+$/ against a header of a's that ends in '!': the pcre match
    limit stops it; the message gets 451 (never accepted past a check that
    did not finish) with a warning naming the table; the next one flows."""
    m = checks_moat(moat_factory, sink, {
        "header_checks": ("pcre", "/^X-Long: (a+)+$/ REJECT backtracked to a match\n"),
    })
    # header_size_limit keeps the first 102400 bytes (as Postfix): the '!'
    # must be inside them for the pattern to fail after backtracking
    long_header = b"X-Long: " + b"a" * 100000 + b"!" + b"a" * (1024 * 1024 - 100000) + b"\r\n"
    code, msg = data_reply(m, message(b"long", long_header))
    assert code == 451 and msg.startswith(b"4.3.0"), (code, msg)
    m.wait_log(r"warning: [0-9A-Z]+: header_checks map lookup problem .*"
               r"message not accepted, try again later")
    m.wait_log(r"pcre.*header_checks")       # the lookup stage names the table's file
    send(m, SENDER, [RCPT], message(b"next one"))
    (got,) = sink.wait_count(1)
    assert b"Subject: next one" in got.content


def test_fifty_pcre_checks(moat_factory, sink):
    rules = "".join(f"/^Subject: .*word{i}\\b/ REJECT 5.7.1 rule {i}\n" for i in range(50))
    m = checks_moat(moat_factory, sink, {"header_checks": ("pcre", rules)})
    for i in range(5):
        send(m, SENDER, [RCPT], message(b"clean %d" % i, b"X-Other: word49\r\n"))
    sink.wait_count(5)
    code, msg = data_reply(m, message(b"has word49 in it"))
    assert (code, msg) == (550, b"5.7.1 rule 49")


# --- mime_header_checks and nested_header_checks ------------------------------

def multipart(parts, outer=b"", boundary=b"=_b1"):
    """A multipart/mixed message (outer headers, then each part as bytes)."""
    out = (b"From: <a@src.example>\r\nTo: <b@dst.example>\r\nSubject: outer\r\n"
           b"MIME-Version: 1.0\r\n" + outer
           + b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\npreamble\r\n")
    for p in parts:
        out += b"--" + boundary + b"\r\n" + p
    return out + b"--" + boundary + b"--\r\nepilogue\r\n"


MIME_TABLE = r"""
/^Content-Type: application\/x-evil;\n\tname="a\.exe"/	REJECT 5.7.1 evil attachment
/^Content-Description: replace-me/	REPLACE Content-Description: replaced
/^X-Part-Drop:/				IGNORE
/^Content-Disposition: inline; prepend-me/	PREPEND X-Part-Note: seen
/^MIME-Version:/			WARN mime table saw MIME-Version
/^Content-Type: text\/x-nested-mime/	REJECT 5.7.3 MIME header of a nested message
"""

PRIMARY_TABLE = r"""
/^X-Primary:/				WARN primary seen
/^MIME-Version:/			REJECT 5.7.9 header_checks saw a MIME header
/^Content-Description:/			REJECT 5.7.9 header_checks saw a part header
/^X-Part-Drop:/				REJECT 5.7.9 header_checks saw a part header
/^Subject: nested-evil/			REJECT 5.7.9 header_checks saw a nested header
"""

NESTED_TABLE = r"""
/^Subject: nested-evil/			REJECT 5.7.1 nested refused
/^X-Nested-Drop:/			IGNORE
/^Content-Type:/			REJECT 5.7.9 nested_header_checks saw a MIME header
"""


@pytest.fixture
def mime_moat(moat_factory, sink):
    return checks_moat(moat_factory, sink, {
        "header_checks": ("pcre", PRIMARY_TABLE),
        "mime_header_checks": ("pcre", MIME_TABLE),
        "nested_header_checks": ("pcre", NESTED_TABLE),
    })


def test_mime_header_checks_edit_the_headers_of_parts(mime_moat, sink):
    """Every header of a MIME part and the message's MIME headers go to
    mime_header_checks (header_checks(5)), never to header_checks; REPLACE,
    IGNORE and PREPEND edit the part's own headers."""
    m = mime_moat
    part = (b"Content-Type: text/plain\r\nContent-Description: replace-me too\r\n"
            b"X-Part-Drop: gone\r\nContent-Disposition: inline; prepend-me\r\n\r\npart body\r\n")
    send(m, SENDER, [RCPT], multipart([part], outer=b"X-Primary: yes\r\n"))
    (got,) = sink.wait_count(1)
    c = got.content
    assert b"Content-Description: replaced\r\n" in c and b"replace-me" not in c
    assert b"X-Part-Drop" not in c
    assert b"X-Part-Note: seen\r\nContent-Disposition: inline; prepend-me\r\n\r\npart body\r\n" in c
    assert b"MIME-Version: 1.0\r\n" in c and b"\r\n--=_b1--\r\nepilogue\r\n" in c
    m.wait_log(r": replace: header Content-Description: replace-me too from unknown\[127\.0\.0\.1\]; "
               r"from=<a@src\.example> to=<b@dst\.example> proto=ESMTP "
               r"helo=<client\.test\.example>: Content-Description: replaced")
    m.wait_log(r": warning: header MIME-Version: 1\.0 from .*: mime table saw MIME-Version")
    m.wait_log(r": warning: header X-Primary: yes from .*: primary seen")


def test_mime_header_checks_see_a_folded_part_header_whole_and_reject(mime_moat, sink):
    m = mime_moat
    evil = (b"Content-Type: application/x-evil;\r\n\tname=\"a.exe\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n")
    code, msg = data_reply(m, multipart([b"Content-Type: text/plain\r\n\r\nhello\r\n", evil]))
    assert (code, msg) == (550, b"5.7.1 evil attachment")
    m.wait_log(r': reject: header Content-Type: application/x-evil;\?\?name="a\.exe" from .*: '
               r"5\.7\.1 evil attachment")
    assert queue_files(m, "incoming") == []


def test_nested_header_checks_see_the_headers_of_attached_messages(mime_moat, sink):
    """Headers of a message/rfc822 part go to nested_header_checks, its MIME
    headers to mime_header_checks; the outer message's to header_checks."""
    m = mime_moat
    inner = (b"Content-Type: message/rfc822\r\n\r\n"
             b"From: <x@inner.example>\r\nSubject: nested-evil\r\n\r\ninner body\r\n")
    code, msg = data_reply(m, multipart([inner]))
    assert (code, msg) == (550, b"5.7.1 nested refused")
    m.wait_log(r": reject: header Subject: nested-evil from .*: 5\.7\.1 nested refused")
    # a whole message that is message/rfc822 at the top, with an edit inside
    top = (b"From: <a@src.example>\r\nSubject: forward\r\nX-Nested-Drop: outer keeps it\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n"
           b"From: <x@inner.example>\r\nX-Nested-Drop: inner loses it\r\nSubject: fine\r\n"
           b"Content-Type: text/plain\r\n\r\ninner body\r\n")
    send(m, SENDER, [RCPT], top)
    (got,) = sink.wait_count(1)
    assert b"X-Nested-Drop: outer keeps it\r\n" in got.content
    assert b"inner loses it" not in got.content
    assert b"Subject: fine\r\nContent-Type: text/plain\r\n\r\ninner body\r\n" in got.content
    # a MIME header of the nested message is mime_header_checks', not nested's
    inner = (b"Content-Type: message/rfc822\r\n\r\nSubject: ok\r\n"
             b"Content-Type: text/x-nested-mime\r\n\r\nbody\r\n")
    code, msg = data_reply(m, multipart([inner]))
    assert (code, msg) == (550, b"5.7.3 MIME header of a nested message")


def test_part_headers_default_to_header_checks(actions):
    """mime_header_checks and nested_header_checks default to $header_checks."""
    part = b"Content-Type: text/x-bad\r\n\r\nbody\r\n"
    code, msg = data_reply(actions, multipart([b"Content-Type: text/plain\r\n\r\nok\r\n", part]))
    assert (code, msg) == (550, b"5.7.2 MIME header refused")
    inner = b"Content-Type: message/rfc822\r\n\r\nSubject: reject-me inside\r\n\r\nbody\r\n"
    code, msg = data_reply(actions, multipart([inner]))
    assert (code, msg) == (550, b"5.7.1 no thanks")
