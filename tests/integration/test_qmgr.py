"""qmgr: dead-destination throttling, deferral with backoff and retry, expiry,
and restart safety (SIGKILL of qmgr under load), end to end through a real
next hop (aiosmtpd) reached by relayhost."""
import os
import re
import signal
import time

from conftest import free_port
from mailpeers import RecordingSink
from relayenv import FAST_RETRY, qmgr_pid, relay_main_cf, send

BODY = b"Subject: qmgr test\r\n\r\nbody\r\n"


def listing(m, d):
    return os.listdir(os.path.join(m.queue, d))


def wait_empty(m, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not any(listing(m, d) for d in ("incoming", "active", "deferred")):
            return
        time.sleep(0.1)
    raise AssertionError("queue not empty:\n" + m.log())


def test_dead_destination_then_retry(moat_factory):
    port = free_port()
    m = moat_factory(main_cf_extra=relay_main_cf(port, FAST_RETRY)).start()
    ids = [send(m, "a@src.example", ["b@dst.example"], BODY) for _ in range(3)]
    m.wait_log(r"status=deferred \(delivery temporarily suspended: ")
    deadline = time.time() + 10
    while len(listing(m, "deferred")) < 3 and time.time() < deadline:
        time.sleep(0.1)
    assert sorted(listing(m, "deferred")) == sorted(ids)
    assert sorted(listing(m, "defer")) == sorted(ids)
    with RecordingSink(port) as sink:
        sink.wait_count(3)
        wait_empty(m)
    for i in ids:
        m.wait_log(rf"{i}: removed")
    assert not listing(m, "defer")


def test_expiry_returns_to_sender(moat_factory):
    port = free_port()
    m = moat_factory(main_cf_extra=relay_main_cf(port, FAST_RETRY + "maximal_queue_lifetime = 0\n")).start()
    qid = send(m, "a@src.example", ["b@dst.example"], BODY)
    m.wait_log(rf"{qid}: from=<a@src.example>, status=expired, returned to sender")


def test_sigkill_under_load_loses_nothing(moat_factory):
    with RecordingSink() as sink:
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)).start()
        ids = []
        for n in range(60):
            ids.append(send(m, "a@src.example", ["b@dst.example"], BODY))
            if n in (20, 40):
                for pid, stage in m.stage_pids().items():
                    if stage == "qmgr":
                        os.kill(pid, signal.SIGKILL)
        wait_empty(m, 60)
        got = set()
        for msg in sink.messages:
            got.update(re.findall(r"id ([0-9A-V]{16})", msg.content.decode("latin-1")))
        assert set(ids) <= got
        assert not listing(m, "corrupt")


def test_notice_for_a_file_already_gone_is_quiet(moat_factory):
    """A new-mail notice whose file a scan or an administrator already took
    is normal (seen: 650 'rename incoming/...: No such file or directory'
    warnings in one second after a qmgr restart)."""
    with RecordingSink() as sink:
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)).start()
        pid = qmgr_pid(m)
        os.kill(pid, signal.SIGSTOP)
        try:
            qid = send(m, "a@src.example", ["b@dst.example"], BODY)
            # the administrator holds it before qmgr reads the notice
            os.rename(os.path.join(m.queue, "incoming", qid), os.path.join(m.queue, "hold", qid))
        finally:
            os.kill(pid, signal.SIGCONT)
        later = send(m, "a@src.example", ["b@dst.example"], BODY)
        m.wait_log(rf"{later}: removed")
        assert listing(m, "hold") == [qid]
        log = m.log()
        assert "No such file or directory" not in log, log
        assert not re.search(rf"warning: .*{qid}", log), log
        assert len(sink.messages) == 1
