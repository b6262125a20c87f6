"""smtpd error accounting: every 4xx/5xx reply counts toward
smtpd_hard_error_limit and the tarpit whatever produced it; recipients past
smtpd_recipient_limit get 452 without ending the session (up to
smtpd_recipient_overshoot_limit, as Postfix); the disconnect line counts an
accepted DATA as data=1.
"""
import os
import re
import time

import pytest

from mailpeers import RecordingSink
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf
from test_smtpd import REJECT_RELAY, Client, open_mail, start


def rcpts_until_dropped(c, addrs):
    """RCPT each address until the server says 421 or hangs up; the codes."""
    codes = []
    for a in addrs:
        try:
            code, _ = c.cmd(f"RCPT TO:<{a}>")
        except (EOFError, ConnectionResetError):
            break
        codes.append(code)
        if code == 421:
            break
    return codes


def test_relay_denied_rcpts_end_at_hard_limit(moat_factory):
    # seen: a reject built elsewhere and sent through "%s" never counted, so
    # 60 relay-denied RCPTs all got 554 at full speed
    m = start(moat_factory, extra=REJECT_RELAY)
    c = open_mail(m)
    codes = rcpts_until_dropped(c, (f"x{i}@other.example" for i in range(60)))
    assert codes == [554] * 20 + [421], codes
    assert c.closed()
    m.wait_log(r"too many errors after RCPT from unknown\[127\.0\.0\.1\]")
    m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=0/20 commands=2/22")


def test_tarpit_delays_replies_past_the_soft_limit(moat_factory):
    m = start(moat_factory, extra=REJECT_RELAY + "smtpd_soft_error_limit = 1\n"
              "smtpd_error_sleep_time = 1s\n")
    c = open_mail(m)
    t0 = time.monotonic()
    for i in range(3):
        assert c.cmd(f"RCPT TO:<x{i}@other.example>")[0] == 554
    # errors 2 and 3 are past the soft limit: each waited a second (a lower bound)
    assert time.monotonic() - t0 >= 2.0
    c.close()


@pytest.fixture
def sink():
    with RecordingSink() as s:
        yield s


def relay(moat_factory, sink, extra=""):
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra))
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(relay_master_cf(m))
    return m.start()


def test_1050_recipients_queue_the_first_1000(moat_factory, sink):
    # seen: 1,050 recipients dropped the session and the whole transaction
    m = relay(moat_factory, sink)
    c = Client(m.port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<s@sender.test>")[0] == 250
    codes = [c.cmd(f"RCPT TO:<r{i}@remote.test>")[0] for i in range(1050)]
    assert codes == [250] * 1000 + [452] * 50
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: many\r\n\r\nhello\r\n.\r\n")
    code, text = c.reply()
    assert code == 250, text
    assert c.cmd("QUIT")[0] == 221
    m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 rcpt=1000/1050 data=1 "
               r"quit=1 commands=1004/1054")
    deadline = time.time() + 60
    got = []
    while time.time() < deadline:
        got = [r for msg in sink.messages for r in msg.rcpt_tos]
        if len(got) >= 1000:
            break
        time.sleep(0.1)
    assert sorted(got) == sorted(f"r{i}@remote.test" for i in range(1000))


def test_recipient_overshoot_limit(moat_factory):
    m = start(moat_factory, mynetworks="127.0.0.0/8", extra=(
        "smtpd_recipient_limit = 3\nsmtpd_recipient_overshoot_limit = 5\n"
        "smtpd_hard_error_limit = 2\n"))
    c = open_mail(m)
    codes = rcpts_until_dropped(c, (f"r{i}@relay.example" for i in range(12)))
    # 3 accepted (or 451 while cleanup cannot queue), 5 answered 452 freely,
    # then each 452 is an error: the second one reaches the hard limit
    assert codes[3:] == [452] * 7 + [421], codes
    assert c.closed()


def test_disconnect_counts_accepted_data(moat_factory, sink):
    # seen: the disconnect line said data=0/1 for an accepted message
    m = relay(moat_factory, sink)
    c = Client(m.port)
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<s@sender.test>")
    assert c.cmd("RCPT TO:<r@remote.test>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(b"Subject: one\r\n\r\nhello\r\n.\r\n")
    assert c.reply()[0] == 250
    c.cmd("QUIT")
    mt = m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ([^\n]*)")
    assert mt.group(1) == "ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5", mt.group(1)
