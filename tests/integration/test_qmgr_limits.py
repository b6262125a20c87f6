"""qmgr's per-destination limits, read through names built at run time from
the transport's name (<transport>_destination_concurrency_limit,
<transport>_destination_recipient_limit): each one set and seen at the next
hop, for the smtp, relay and lmtp transports."""
import asyncio
import os
import re
import signal
import smtplib
import time

import pytest

from mailpeers import RecordingHandler, RecordingSink
from relayenv import FAST_RETRY, qmgr_pid, relay_main_cf, send, send_batch

BODY = b"Subject: limits\r\n\r\nbody\r\n"


class HoldingHandler(RecordingHandler):
    """Holds each DATA until `want` sessions are inside DATA at once (or
    `hold` seconds pass), and records the most it ever saw together."""

    def __init__(self, want, hold):
        super().__init__()
        self.want, self.hold = want, hold
        self.inside = 0
        self.most = 0
        self.rcpt_sets = []

    async def handle_DATA(self, server, session, envelope):
        self.inside += 1
        self.most = max(self.most, self.inside)
        deadline = time.time() + self.hold
        while self.inside < self.want and time.time() < deadline:
            await asyncio.sleep(0.02)
        self.rcpt_sets.append(sorted(envelope.rcpt_tos))
        reply = await super().handle_DATA(server, session, envelope)
        self.inside -= 1
        return reply


class HoldingSink(RecordingSink):
    def __init__(self, want=1000, hold=0.0):
        super().__init__()
        self.handler = HoldingHandler(want, hold)
        self.controller.handler = self.handler


ROUTES = {
    # transport: (main.cf lines that send b@dst.example through it, master.cf line)
    "smtp": ("", ""),
    "relay": ("relay_domains = dst.example\n", "relay unix - - y - 10 smtp\n"),
    "lmtp": ("default_transport = lmtp\n", "lmtp unix - - y - 10 smtp\n"),
}


def start_routed(moat_factory, sink, transport, extra):
    cf, master = ROUTES[transport]
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY) + cf + extra)
    with open(os.path.join(m.confdir, "master.cf"), "a") as f:
        f.write(master)
    return m.start()


@pytest.mark.parametrize("transport,param", [
    ("smtp", "smtp_destination_concurrency_limit"),
    ("relay", "relay_destination_concurrency_limit"),
    ("lmtp", "lmtp_destination_concurrency_limit")])
def test_destination_concurrency_limit_per_transport(moat_factory, transport, param):
    """Each delivery is held until three run together; with
    <transport>_destination_concurrency_limit = 2 three never do."""
    with HoldingSink(want=3, hold=1.5) as sink:
        m = start_routed(moat_factory, sink, transport,
                         f"{param} = 2\n"
                         "default_destination_concurrency_limit = 20\n")
        ids = send_batch(m, 6, ["b@dst.example"], BODY)
        sink.wait_count(6, timeout=60)
        for qid in ids:
            m.wait_log(rf"{qid}: removed")
        assert sink.handler.most == 2


@pytest.mark.parametrize("transport,param", [
    ("smtp", "smtp_destination_recipient_limit"),
    ("relay", "relay_destination_recipient_limit"),
    ("lmtp", "lmtp_destination_recipient_limit")])
def test_destination_recipient_limit_per_transport(moat_factory, transport, param):
    """Five recipients, <transport>_destination_recipient_limit = 2: three
    deliveries of 2, 2 and 1 recipients."""
    rcpts = [f"r{i}@dst.example" for i in range(5)]
    with HoldingSink() as sink:
        m = start_routed(moat_factory, sink, transport, f"{param} = 2\n")
        qid = send(m, "a@src.example", rcpts, BODY)
        sink.wait_count(3)
        m.wait_log(rf"{qid}: removed")
        sets = sink.handler.rcpt_sets
        assert sorted(len(s) for s in sets) == [1, 2, 2]
        assert sorted(r for s in sets for r in s) == rcpts


@pytest.mark.parametrize("transport,param", [("smtp", "default_destination_rate_delay"),
                                             ("smtp", "smtp_destination_rate_delay"),
                                             ("relay", "relay_destination_rate_delay"),
                                             ("lmtp", "lmtp_destination_rate_delay")])
def test_destination_rate_delay(moat_factory, transport, param):
    """2 s between the end of one delivery and the start of the next to the
    same destination, one at a time even with room for more (a lower bound
    on the gaps: load can only make them longer)."""
    with HoldingSink(want=2, hold=0.5) as sink:
        m = start_routed(moat_factory, sink, transport, f"{param} = 2s\n")
        send_batch(m, 3, ["b@dst.example"], BODY)
        got = sink.wait_count(3, timeout=60)
        assert sink.handler.most == 1
        gaps = [b.when - a.when for a, b in zip(got, got[1:])]
        assert min(gaps) >= 1.9, gaps


@pytest.mark.parametrize("warn_time", ["300s", "0"])
def test_clog_warning(moat_factory, warn_time):
    """One destination holds more than a fifth of qmgr_message_active_limit:
    a warning, once per qmgr_clog_warn_time; none when that is 0."""
    with HoldingSink(hold=0.5) as sink:
        m = start_routed(moat_factory, sink, "smtp",
                         "qmgr_message_active_limit = 10\nsmtp_destination_concurrency_limit = 1\n"
                         f"qmgr_clog_warn_time = {warn_time}\n")
        ids = send_batch(m, 5, ["b@dst.example"], BODY)
        ids += send_batch(m, 4, ["b@dst.example"], BODY)
        for qid in ids:
            m.wait_log(rf"{qid}: removed", timeout=60)
        warnings = re.findall(r"warning: mail for \[127.0.0.1\]:\d+ is using up (\d+) of (\d+) "
                              r"active queue entries", m.log())
        if warn_time == "0":
            assert warnings == []
        else:
            assert len(warnings) == 1, m.log()
            assert int(warnings[0][0]) >= 3
            assert "increase the main.cf smtp_destination_concurrency_limit from 1" in m.log()


def line_index(log, pattern):
    m = re.search(pattern, log)
    assert m, f"no {pattern!r} in:\n{log}"
    return m.start()


def test_message_recipient_limit_and_minimum(moat_factory):
    """qmgr_message_recipient_limit = 4: two messages of 3 recipients are
    never active together; a message of 1 recipient (at most
    qmgr_message_recipient_minimum) is let in past the limit."""
    with HoldingSink(hold=1.0) as sink:
        m = start_routed(moat_factory, sink, "smtp",
                         "qmgr_message_recipient_limit = 4\nqmgr_message_recipient_minimum = 1\n")
        big = [f"r{i}@dst.example" for i in range(3)]
        pid = qmgr_pid(m)
        os.kill(pid, signal.SIGSTOP)
        try:
            a = send(m, "a@src.example", big, BODY)
            b = send(m, "a@src.example", big, BODY)
            c = send(m, "a@src.example", ["one@dst.example"], BODY)
        finally:
            os.kill(pid, signal.SIGCONT)
        for qid in (a, b, c):
            m.wait_log(rf"{qid}: removed", timeout=60)
        log = m.log()
        first, second = sorted((a, b), key=lambda q: line_index(log, rf"{q}: from=.*queue active"))
        assert line_index(log, rf"{second}: from=.*queue active") > line_index(log, rf"{first}: removed")
        assert line_index(log, rf"{c}: from=.*queue active") < line_index(log, rf"{first}: removed")


def test_in_flow_delay(moat_factory, sink):
    """in_flow_delay = 3s: while qmgr takes nothing out of incoming/ (here it
    is stopped), each new message waits that long for qmgr's token, then is
    taken anyway (a lower bound: load only makes the wait longer)."""
    m = start_routed(moat_factory, sink, "smtp", "in_flow_delay = 3s\n")
    pid = qmgr_pid(m)
    os.kill(pid, signal.SIGSTOP)
    try:
        with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
            s.ehlo("client.test.example")
            # one unanswered notice per client is slack (an answer on its way)
            s.sendmail("a@src.example", ["b@dst.example"], BODY)
            s.sendmail("a@src.example", ["b@dst.example"], BODY)
            t0 = time.monotonic()
            s.sendmail("a@src.example", ["b@dst.example"], BODY)
            waited = time.monotonic() - t0
    finally:
        os.kill(pid, signal.SIGCONT)
    assert waited >= 2.9, waited
    sink.wait_count(3)


@pytest.mark.parametrize("retry,most", [("3600s", 1), ("1s", None)])
def test_transport_retry_time(moat_factory, sink, retry, most):
    """A transport the broker cannot give (no master.cf service by that
    name) is not asked for again until transport_retry_time has passed;
    meanwhile its mail, new or retried, is deferred at once. With 1 s each
    new message finds the wait over (sent 1.5 s apart: load only makes it
    more certain), and retries of the deferred ones may ask too."""
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)
                     + f"default_transport = nosuch\ntransport_retry_time = {retry}\n").start()
    for i in range(3):
        qid = send(m, "a@src.example", [f"b{i}@dst.example"], BODY)
        m.wait_log(rf"{qid}: to=<b{i}@dst\.example>.*status=deferred \(mail transport unavailable\)")
        time.sleep(1.5)
    asks = len(re.findall(r"no channel to nosuch", m.log()))
    assert asks == most if most else asks >= 3, m.log()
