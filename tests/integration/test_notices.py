"""Delay warnings and notices to the postmaster, end to end through a real
next hop (aiosmtpd) that defers or refuses the recipient and takes the
notices: delay_warning_time, notify_classes (bounce, delay, 2bounce),
bounce_notice_recipient, delay_notice_recipient."""
import re
import time

from relayenv import FAST_RETRY, relay_main_cf, send

BODY = (b"From: Alice <alice@sender.test>\r\nSubject: notice test\r\n\r\n"
        b"body-line-that-must-not-come-back\r\n")


def relay(moat_factory, sink, extra):
    return moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra)).start()


def notices(sink, to):
    return [x for x in sink.messages if x.mail_from in ("", "<>") and x.rcpt_tos == [to]]


def wait_notice(sink, to, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = notices(sink, to)
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"no notice to {to}: {[(x.mail_from, x.rcpt_tos) for x in sink.messages]}")


def wait_lines(m, pattern, n, timeout=30):
    """Wait until the log has at least n lines matching pattern."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if len(re.findall(pattern, m.log())) >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {n} lines match {pattern!r}:\n{m.log()}")


def deferrals(qid):
    return rf"{qid}: to=<slow@remote.test>, .*status=deferred"


def test_delay_warning_once_with_headers_only(moat_factory, sink):
    """delay_warning_time = 2s: one warning to the sender once the message
    has waited that long, with the headers of the message and not its body,
    and never a second one at later attempts."""
    sink.handler.rcpt_rules = {"slow@remote.test": (450, "4.2.0 mailbox busy")}
    m = relay(moat_factory, sink, "delay_warning_time = 2s\n")
    qid = send(m, "alice@sender.test", ["slow@remote.test"], BODY)
    (warn,) = wait_notice(sink, "alice@sender.test")
    text = warn.content
    assert b"Subject: Delayed Mail (still being retried)" in text
    assert b"Action: delayed" in text and b"Status: 4.2.0" in text
    assert b"Final-Recipient: rfc822; slow@remote.test" in text
    assert b"text/rfc822-headers" in text and b"Subject: notice test" in text
    assert b"body-line-that-must-not-come-back" not in text
    m.wait_log(rf"{qid}: sender delay notification: \w+")
    wait_lines(m, deferrals(qid), len(re.findall(deferrals(qid), m.log())) + 2)
    assert len(re.findall(rf"{qid}: sender delay notification", m.log())) == 1
    assert len(notices(sink, "alice@sender.test")) == 1
    assert not re.search(r"postmaster delay notification", m.log())   # not asked for


def test_no_delay_warning_when_off(moat_factory, sink):
    """delay_warning_time = 0 (the default): no warning, whatever the wait."""
    sink.handler.rcpt_rules = {"slow@remote.test": (450, "4.2.0 mailbox busy")}
    m = relay(moat_factory, sink, "")
    qid = send(m, "alice@sender.test", ["slow@remote.test"], BODY)
    wait_lines(m, deferrals(qid), 4)
    assert not re.search(r"delay notification", m.log())
    assert sink.messages == []


def test_postmaster_copy_of_delay_warning(moat_factory, sink):
    """notify_classes = delay: delay_notice_recipient gets a copy."""
    sink.handler.rcpt_rules = {"slow@remote.test": (450, "4.2.0 mailbox busy")}
    m = relay(moat_factory, sink, "delay_warning_time = 1s\nnotify_classes = delay\n"
              "delay_notice_recipient = pm@admin.test\n")
    qid = send(m, "alice@sender.test", ["slow@remote.test"], BODY)
    (copy,) = wait_notice(sink, "pm@admin.test")
    assert b"Subject: Postmaster Warning: Delayed Mail" in copy.content
    assert b"To: pm@admin.test" in copy.content
    assert b"body-line-that-must-not-come-back" not in copy.content
    assert len(wait_notice(sink, "alice@sender.test")) == 1
    m.wait_log(rf"{qid}: postmaster delay notification: \w+")


def test_postmaster_copy_of_bounce(moat_factory, sink):
    """notify_classes = bounce: bounce_notice_recipient gets a copy of the
    failure notice, headers only; the sender's notice is unchanged."""
    sink.handler.rcpt_rules = {"nobody@remote.test": (550, "5.1.1 no such user")}
    m = relay(moat_factory, sink, "notify_classes = bounce\nbounce_notice_recipient = pm@admin.test\n")
    qid = send(m, "alice@sender.test", ["nobody@remote.test"], BODY)
    (copy,) = wait_notice(sink, "pm@admin.test")
    assert b"Subject: Postmaster Copy: Undelivered Mail" in copy.content
    assert b"Final-Recipient: rfc822; nobody@remote.test" in copy.content
    assert b"body-line-that-must-not-come-back" not in copy.content
    (dsn,) = wait_notice(sink, "alice@sender.test")
    assert b"Subject: Undelivered Mail Returned to Sender" in dsn.content
    assert b"body-line-that-must-not-come-back" in dsn.content
    m.wait_log(rf"{qid}: removed")


def test_no_postmaster_copy_by_default(moat_factory, sink):
    """notify_classes defaults to resource, software: the sender alone."""
    sink.handler.rcpt_rules = {"nobody@remote.test": (550, "5.1.1 no such user")}
    m = relay(moat_factory, sink, "bounce_notice_recipient = pm@admin.test\n")
    qid = send(m, "alice@sender.test", ["nobody@remote.test"], BODY)
    m.wait_log(rf"{qid}: removed")   # after every notice of the request was made
    wait_notice(sink, "alice@sender.test")
    assert "postmaster non-delivery notification" not in m.log()
    assert notices(sink, "pm@admin.test") == []


def test_failed_postmaster_notice_is_dropped(moat_factory, sink):
    """A postmaster notice that cannot be delivered is dropped, never noticed
    again: no loop of notices about notices (notify_classes bounce, 2bounce)."""
    sink.handler.rcpt_rules = {"nobody@remote.test": (550, "5.1.1 no such user"),
                               "pm@admin.test": (550, "5.1.1 no postmaster here"),
                               "alice@sender.test": (550, "5.1.1 gone")}
    m = relay(moat_factory, sink, "notify_classes = bounce, 2bounce\n"
              "bounce_notice_recipient = pm@admin.test\n2bounce_notice_recipient = pm@admin.test\n")
    qid = send(m, "alice@sender.test", ["nobody@remote.test"], BODY)
    m.wait_log(rf"{qid}: removed")
    wait_lines(m, r"undeliverable postmaster notification discarded", 2)
    # every notice made was removed in the end, and none was made after
    n = len(re.findall(r"notification: \w+", m.log()))
    wait_lines(m, r": removed", n + 1)
    assert len(re.findall(r"notification: \w+", m.log())) == n <= 4
