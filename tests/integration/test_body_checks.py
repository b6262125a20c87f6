"""body_checks (header_checks(5)) in cleanup, end to end: real SMTP into
moat, the tables asked through the lookup stage, the result seen at a
recording next hop, in the queue directory and in the log."""
import os
import re
import subprocess

import pytest

from conftest import BUILD
from relayenv import send
from test_lookup import start_fails
from test_header_checks import (RCPT, SENDER, checks_moat, data_reply, message, multipart,
                                queue_files, wait_until, write_table)

ACTIONS = r"""
/^reject-me/			REJECT no thanks
/^defer-me/			REJECT 4.7.0 come back later
/^warn-me/			WARN watched
/^info-me/			INFO noted
/^dunno-me/			DUNNO
/^hold-me/			HOLD held by body
/^discard-me/			DISCARD dropped by body
/^redirect-me/			REDIRECT other@dst.example
/^bcc-me/			BCC archive@dst.example
/^prepend-me/			PREPEND inserted line
/^replace-me (.*)/		REPLACE replaced $1
/^dot-replace-me/		REPLACE .starts with a dot
/^ignore-me/			IGNORE
/^strip-me/			STRIP stripped by body
/^pass-me/			PASS trusted
/^\.hidden/			REJECT 5.7.3 dot line seen unstuffed
/^--=_b1--$/			WARN closing boundary seen
/^TVqQ/				REJECT 5.7.4 executable in base64
"""


@pytest.fixture
def body(moat_factory, sink):
    return checks_moat(moat_factory, sink, {"body_checks": ("pcre", ACTIONS)})


def test_reject_with_postfix_log_line(body):
    m = body
    code, msg = data_reply(m, message(b"s", body=b"first line\r\nreject-me please\r\n"))
    assert (code, msg) == (550, b"5.7.1 no thanks")
    m.wait_log(r"cleanup\[\d+\]: [0-9A-Z]+: reject: body reject-me please from "
               r"unknown\[127\.0\.0\.1\]; from=<a@src\.example> to=<b@dst\.example> "
               r"proto=ESMTP helo=<client\.test\.example>: 5\.7\.1 no thanks")
    assert queue_files(m, "incoming") == []
    code, msg = data_reply(m, message(b"s", body=b"defer-me\r\n"))
    assert (code, msg) == (451, b"4.7.0 come back later")


def test_edits_of_body_lines(body, sink):
    """IGNORE and STRIP delete the line, REPLACE replaces it, PREPEND adds one
    before it; WARN, INFO, DUNNO leave it; wire dot-stuffing is undone for
    the key and done for a replacement that starts with a dot."""
    text = (b"warn-me\r\ninfo-me\r\ndunno-me\r\nprepend-me\r\nreplace-me abc\r\n"
            b"ignore-me\r\nstrip-me\r\ndot-replace-me\r\nlast\r\n")
    send(m := body, SENDER, [RCPT], message(b"edits", body=text))
    (got,) = sink.wait_count(1)
    body_part = got.content.split(b"\r\n\r\n", 1)[1]
    assert body_part == (b"warn-me\r\ninfo-me\r\ndunno-me\r\ninserted line\r\nprepend-me\r\n"
                         b"replaced abc\r\n.starts with a dot\r\nlast\r\n"), body_part
    m.wait_log(r": warning: body warn-me from unknown\[127\.0\.0\.1\]; .*: watched")
    m.wait_log(r": info: body info-me from .*: noted")
    m.wait_log(r": strip: body strip-me from .*: stripped by body")
    m.wait_log(r": replace: body replace-me abc from .*: replaced abc")
    # smtplib stuffs the dot: the wire line is "..hidden line"
    code, msg = data_reply(m, message(b"dot", body=b".hidden line\r\n"))
    assert (code, msg) == (550, b"5.7.3 dot line seen unstuffed")


def test_hold_discard_redirect_bcc_pass(body, sink):
    m = body
    held = send(m, SENDER, [RCPT], message(b"h", body=b"hold-me\r\n"))
    m.wait_log(rf"{held}: hold: body hold-me from .*: held by body")
    assert held in queue_files(m, "hold")
    gone = send(m, SENDER, [RCPT], message(b"d", body=b"discard-me\r\nreject-me\r\n"))
    m.wait_log(rf"{gone}: discard: body discard-me from .*: dropped by body")
    send(m, SENDER, [RCPT, "c@dst.example"], message(b"r", body=b"redirect-me\r\n"))
    m.wait_log(r": redirect: body redirect-me from .*: other@dst\.example")
    send(m, SENDER, [RCPT], message(b"b", body=b"bcc-me\r\n"))
    send(m, SENDER, [RCPT], message(b"p", body=b"pass-me\r\nreject-me\r\n"))
    m.wait_log(r": pass: body pass-me from .*: trusted")
    want = {(b"b", "archive@dst.example"), (b"b", RCPT), (b"p", RCPT), (b"r", "other@dst.example")}
    wait_until(lambda: {(g.content.split(b"Subject: ")[1][:1], r) for g in sink.messages
                        for r in g.rcpt_tos} == want, "deliveries of b, p, r and the BCC copy")
    assert held in queue_files(m, "hold")
    for q in ("incoming", "active", "deferred", "hold"):
        assert gone not in queue_files(m, q)


def test_every_part_boundaries_and_encoded_lines_are_body(body, sink):
    """Postfix: body_checks see all content but headers, whatever the part's
    type: base64 lines of an attachment and the boundaries too."""
    m = body
    exe = (b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
           b"\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQ\r\n")
    code, msg = data_reply(m, multipart([b"Content-Type: text/plain\r\n\r\nhi\r\n", exe]))
    assert (code, msg) == (550, b"5.7.4 executable in base64")
    send(m, SENDER, [RCPT], multipart([b"Content-Type: text/plain\r\n\r\nhi\r\n"]))
    m.wait_log(r": warning: body --=_b1-- from .*: closing boundary seen")
    (got,) = sink.wait_count(1)
    assert got.content.endswith(b"\r\n--=_b1--\r\nepilogue\r\n")


def test_body_checks_size_limit_per_part(moat_factory, sink):
    """Only the first body_checks_size_limit bytes of each body segment (a
    part's body, the preamble, the epilogue) are looked at."""
    m = checks_moat(moat_factory, sink, {"body_checks": ("regexp", "/^badword/ REJECT seen\n")},
                    extra="body_checks_size_limit = 300\n")
    filler = b"".join(b"filler line %03d .........\r\n" % i for i in range(20))   # 540 bytes
    send(m, SENDER, [RCPT], message(b"late", body=filler + b"badword late\r\n"))
    sink.wait_count(1)
    # the same line at the start of a second part is inside that part's limit
    late_part = b"Content-Type: text/plain\r\n\r\n" + filler + b"badword late\r\n"
    early_part = b"Content-Type: text/plain\r\n\r\nbadword early\r\n"
    send(m, SENDER, [RCPT], multipart([late_part]))
    sink.wait_count(2)
    code, msg = data_reply(m, multipart([late_part, early_part]))
    assert (code, msg) == (550, b"5.7.1 seen")


def test_long_line_is_checked_in_line_length_limit_pieces(moat_factory, sink):
    """As Postfix's records: a line longer than line_length_limit is checked
    piece by piece; a REPLACE of one piece leaves the rest of the line."""
    m = checks_moat(moat_factory, sink, {"body_checks": ("pcre", "/^bbb/ REPLACE BBB\n"
                                                                 "/^ccc/ REJECT third piece\n")},
                    extra="line_length_limit = 100\n")
    send(m, SENDER, [RCPT], message(b"long", body=b"a" * 100 + b"bbb" + b"x" * 97 + b"tail\r\n"))
    (got,) = sink.wait_count(1)
    assert got.content.endswith(b"\r\n\r\n" + b"a" * 100 + b"BBB" + b"tail\r\n")
    code, msg = data_reply(m, message(b"long", body=b"a" * 200 + b"ccc\r\n"))
    assert (code, msg) == (550, b"5.7.1 third piece")


def test_mime_processing_off_makes_part_headers_body_lines(moat_factory, sink):
    """disable_mime_input_processing: all content after the message's headers
    is body (postconf(5)), part headers included."""
    table = {"body_checks": ("regexp", "/^Content-Type: application\\/x-evil/ REJECT part\n")}
    part = b"Content-Type: application/x-evil\r\n\r\nbody\r\n"
    m = checks_moat(moat_factory, sink, table)
    send(m, SENDER, [RCPT], multipart([part]))         # MIME on: a part header, not body
    sink.wait_count(1)
    m.stop()
    m = checks_moat(moat_factory, sink, table, extra="disable_mime_input_processing = yes\n")
    code, msg = data_reply(m, multipart([part]))
    assert (code, msg) == (550, b"5.7.1 part")


def test_catastrophic_pattern_on_a_long_body_line_defers_and_mail_keeps_flowing(moat_factory, sink):
    """/(a+)+$/ against a line of a's ending in '!': the pcre match limit
    stops it, the message gets 451 4.3.0 with a warning naming body_checks,
    and the next message flows."""
    m = checks_moat(moat_factory, sink, {"body_checks": ("pcre", "/^(a+)+$/ REJECT matched\n")})
    code, msg = data_reply(m, message(b"long", body=b"a" * 2000 + b"!\r\n" + b"a" * 100000 + b"\r\n"))
    assert code == 451 and msg.startswith(b"4.3.0"), (code, msg)
    m.wait_log(r"warning: [0-9A-Z]+: body_checks map lookup problem .*"
               r"message not accepted, try again later")
    m.wait_log(r"pcre.*body_checks")
    send(m, SENDER, [RCPT], message(b"next one"))
    (got,) = sink.wait_count(1)
    assert b"Subject: next one" in got.content


def test_no_body_checks_leaves_the_body_byte_for_byte(moat_factory, sink):
    """Without content check tables the body passes as it came (a long
    line, dots, empty lines)."""
    m = checks_moat(moat_factory, sink, {}, extra="line_length_limit = 100\n")
    text = b"x" * 900 + b"\r\n\r\n..dot\r\n--not-a-boundary\r\nend\r\n"
    send(m, SENDER, [RCPT], message(b"raw", body=text))
    (got,) = sink.wait_count(1)
    assert got.content.endswith(b"\r\n\r\n" + text)


def test_filter_made_at_run_time_defers_in_each_of_the_four_classes(moat_factory, sink):
    """moat has no content filter. A FILTER written in a table stops start-up
    (below); one that a pattern builds from the message ($1) can only be
    seen at run time, where it defers the message (451 4.3.0, a warning
    naming the parameter) in header_checks, mime_header_checks,
    nested_header_checks and body_checks alike, never passes it."""
    m = checks_moat(moat_factory, sink, {
        "header_checks": ("regexp", "/^Subject: (FILTER)-me/ $1 smtp:[127.0.0.1]:10025\n"),
        "mime_header_checks": ("regexp", "/^Content-Type: text\\/x-(FILTER)/ $1 smtp:x\n"),
        "nested_header_checks": ("regexp", "/^Subject: nested-(FILTER)/ $1 smtp:x\n"),
        "body_checks": ("regexp", "/^(FILTER)-me/ $1 smtp:x\n"),
    })
    cases = [
        ("header_checks", message(b"FILTER-me")),
        ("mime_header_checks", multipart([b"Content-Type: text/x-FILTER\r\n\r\nx\r\n"])),
        ("nested_header_checks",
         multipart([b"Content-Type: message/rfc822\r\n\r\nSubject: nested-FILTER\r\n\r\nx\r\n"])),
        ("body_checks", message(b"s", body=b"FILTER-me\r\n")),
    ]
    for param, msg_bytes in cases:
        code, msg = data_reply(m, msg_bytes)
        assert (code, msg) == (451, b"4.3.0 Error: temporary failure of a content check"), param
        m.wait_log(rf"warning: [0-9A-Z]+: {param} map lookup problem \(FILTER: moat has no "
                   r"content filter\) -- message not accepted, try again later")
    send(m, SENDER, [RCPT], message(b"plain"))
    sink.wait_count(1)
    assert queue_files(m, "incoming") == []


@pytest.mark.parametrize("param", ["header_checks", "mime_header_checks", "nested_header_checks",
                                   "body_checks"])
def test_filter_in_a_table_stops_start_up_with_file_and_line(moat_factory, sink, param):
    """FILTER (any case) written in a content check table: moatd refuses to
    start, naming the table's file and line and the main.cf line naming it,
    before it forks any stage."""
    m = checks_moat(moat_factory, sink, {
        param: ("regexp", "/^x-fine/ WARN fine\n/^Subject: f/  filter smtp:[127.0.0.1]:10025\n"),
    }, start=False)
    err = start_fails(m)
    assert re.search(rf"/tables/{param}, line 2: FILTER: moat has no content filter to pass "
                     rf"mail to \(the table is named by \S*main\.cf:\d+: {param}", err), err


def test_filter_in_a_hash_access_table_stops_start_up(moat_factory, sink):
    """The same for an access table (check_sender_access, a hash built by
    moatmap): the entry is named by its key."""
    m = checks_moat(moat_factory, sink, {}, start=False)
    path = write_table(m, "access", "ok.example OK\nbad.example FILTER smtp:[127.0.0.1]:10025\n")
    subprocess.run([os.path.join(BUILD, "bin", "moatmap"), f"hash:{path}"], check=True)
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"smtpd_sender_restrictions = check_sender_access hash:{path}\n")
    err = start_fails(m)
    assert re.search(r"/tables/access\.db: key \"bad\.example\": FILTER: .*named by "
                     r"\S*main\.cf:\d+: smtpd_sender_restrictions", err), err


def test_large_message_edits_are_exact_whatever_the_chunks(moat_factory, sink):
    """Some 2 MB in lines of every length up to past line_length_limit, read
    by smtpd and cleanup in chunks that cut lines anywhere: each REPLACE and
    IGNORE lands on its line (or first piece) and every other byte is kept."""
    m = checks_moat(moat_factory, sink, {
        "body_checks": ("pcre", "/^swap-me (\\d+)/ REPLACE swapped $1\n/^drop-me/ IGNORE\n"),
        "mime_header_checks": ("pcre", "/^Content-Description: (\\d+)/ REPLACE Content-Description: D$1\n"),
    }, extra="line_length_limit = 200\nbody_checks_size_limit = 0\n")
    lines, want = [], []
    for i in range(9000):
        line = b"%06d " % i + b"x" * (i * 7 % 450)
        if i % 97 == 0:
            line = b"swap-me " + line
            want.append(b"swapped %06d" % i + line[200:] + b"\r\n")
        elif i % 101 == 0:
            line = b"drop-me " + line[:100]
        else:
            want.append(line + b"\r\n")
        lines.append(line + b"\r\n")
        if i % 1000 == 999:     # a new part every 1000 lines
            part = b"--=_b1\r\nContent-Description: %d\r\n\r\n" % i
            lines.append(part)
            want.append(part.replace(b"Description: ", b"Description: D"))
    send(m, SENDER, [RCPT], multipart([b"Content-Type: text/plain\r\n\r\n" + b"".join(lines)]))
    (got,) = sink.wait_count(1)
    body_part = got.content.split(b"\r\n\r\npreamble\r\n--=_b1\r\nContent-Type: text/plain\r\n\r\n", 1)[1]
    assert body_part == b"".join(want) + b"--=_b1--\r\nepilogue\r\n"


def test_a_piece_that_comes_to_start_a_line_gets_its_dot_stuffed(moat_factory, sink):
    """Dropping the first piece of a long line (IGNORE), or PREPENDing a
    line before a later piece, makes that piece start a line: a lone "."
    there must stay data, never end the message at the next hop."""
    m = checks_moat(moat_factory, sink, {
        "body_checks": ("pcre", "/^X+$/ IGNORE\n/^Y+$/ REPLACE\n/^\\.z$/ PREPEND inserted\n"),
    }, extra="line_length_limit = 100\n")
    text = (b"X" * 100 + b".\r\nafter one\r\n" + b"Y" * 100 + b".\r\nafter two\r\n"
            + b"Z" * 100 + b".z\r\nafter three\r\n")
    send(m, SENDER, [RCPT], message(b"dots", body=text))
    (got,) = sink.wait_count(1)
    body_part = got.content.split(b"\r\n\r\n", 1)[1]
    assert body_part == (b".\r\nafter one\r\n.\r\nafter two\r\n"
                         + b"Z" * 100 + b"inserted\r\n.z\r\nafter three\r\n"), body_part
