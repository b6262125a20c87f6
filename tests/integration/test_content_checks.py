"""cleanup's MIME checks through real SMTP sessions: strict_8bitmime,
mime_nesting_limit, disable_mime_input_processing. A refused message gets
550 5.6.0 after the final dot and leaves nothing in the queue."""
import os
import smtplib

import pytest

from relayenv import FAST_RETRY, relay_main_cf, send
from test_header_checks import checks_moat

UNDECLARED_8BIT = b"Subject: caf\xc3\xa9 test\r\n\r\nna\xc3\xafve body\r\n"


def nested(depth):
    out = b"Subject: deep\r\n"
    for i in range(depth):
        out += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
    out += b"\r\nleaf\r\n"
    for i in reversed(range(depth)):
        out += b"--b%d--\r\n" % i
    return out


def refused(m, body):
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
        s.ehlo("client.test.example")
        s.mail("a@src.example", ["BODY=8BITMIME"])
        s.rcpt("b@dst.example")
        return s.data(body)


def queue_is_empty(m):
    return not any(os.listdir(os.path.join(m.queue, d)) for d in ("incoming", "active", "deferred"))


@pytest.mark.parametrize("extra,body,reply", [
    ("strict_8bitmime = yes\n", UNDECLARED_8BIT,
     b"5.6.0 Error: improper use of 8-bit data in message header"),
    ("strict_7bit_headers = yes\n", UNDECLARED_8BIT,
     b"5.6.0 Error: improper use of 8-bit data in message header"),
    ("strict_8bitmime_body = yes\n", UNDECLARED_8BIT,
     b"5.6.0 Error: improper use of 8-bit data in message body"),
    ("mime_nesting_limit = 3\n", nested(4), b"5.6.0 Error: MIME nesting exceeds safety limit"),
])
def test_content_refused(moat_factory, sink, extra, body, reply):
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra)).start()
    code, msg = refused(m, body)
    assert (code, msg) == (550, reply)
    m.wait_log(r"reject: mime-error ")
    assert queue_is_empty(m)


@pytest.mark.parametrize("extra,body", [
    ("", UNDECLARED_8BIT),                              # Postfix's defaults: no strict checks
    ("strict_7bit_headers = yes\n", b"Subject: plain\r\n\r\nna\xc3\xafve body\r\n"),
    ("mime_nesting_limit = 4\n", nested(4)),
    ("strict_8bitmime = yes\ndisable_mime_input_processing = yes\n", UNDECLARED_8BIT),
    ("mime_nesting_limit = 3\ndisable_mime_input_processing = yes\n", nested(4)),
])
def test_content_accepted(moat_factory, sink, extra, body):
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra)).start()
    send(m, "a@src.example", ["b@dst.example"], body)
    (got,) = sink.wait_count(1)
    head, text = body.split(b"\r\n\r\n", 1)
    assert head.split(b"\r\n")[0] in got.content     # cleanup adds headers for a local client
    assert got.content.endswith(b"\r\n\r\n" + text)


BASE64_MULTIPART = (b"Subject: domain\r\nMIME-Version: 1.0\r\n"
                    b"Content-Type: multipart/mixed; boundary=b1\r\n"
                    b"Content-Transfer-Encoding: base64\r\n\r\n--b1\r\n\r\npart\r\n--b1--\r\n")


def test_strict_mime_encoding_domain(moat_factory, sink):
    """multipart/* with a base64 encoding: refused only when asked (Postfix's default is no)."""
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)).start()
    send(m, "a@src.example", ["b@dst.example"], BASE64_MULTIPART)
    sink.wait_count(1)
    m.stop()
    m = moat_factory(main_cf_extra=relay_main_cf(
        sink.port, FAST_RETRY + "strict_mime_encoding_domain = yes\n")).start()
    code, msg = refused(m, BASE64_MULTIPART)
    assert (code, msg) == (550, b"5.6.0 Error: invalid message/* or multipart/* encoding domain")
    m.wait_log(r"reject: mime-error invalid message/\* or multipart/\* encoding domain")
    assert queue_is_empty(m)


def test_mime_boundary_length_limit(moat_factory, sink):
    """Boundaries are told apart by their first mime_boundary_length_limit
    bytes: with 11, "--=_boundary_XYZ" opens a part of "=_boundary_ABC", so
    the next line is a part header that mime_header_checks sees; with the
    default it stays a body line."""
    table = {"mime_header_checks": ("regexp", "/^Content-Type: application\\/x-evil/ "
                                              "REJECT 5.7.1 part header seen\n")}
    body = (b"Subject: b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
            b"boundary=\"=_boundary_ABC\"\r\n\r\n--=_boundary_ABC\r\n\r\ntext\r\n"
            b"--=_boundary_XYZ\r\nContent-Type: application/x-evil\r\n\r\nmore\r\n"
            b"--=_boundary_ABC--\r\n")
    m = checks_moat(moat_factory, sink, table)
    send(m, "a@src.example", ["b@dst.example"], body)
    sink.wait_count(1)
    m.stop()
    m = checks_moat(moat_factory, sink, table, extra="mime_boundary_length_limit = 11\n")
    code, msg = refused(m, body)
    assert (code, msg) == (550, b"5.7.1 part header seen")
