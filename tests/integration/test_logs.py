"""Logs in Postfix's shape: Debian's unmodified pflogsumm, run on the log of
an integration run, counts received, delivered, deferred and bounced
messages correctly."""
import os
import re
import subprocess
import time

import pytest

from mailpeers import RecordingSink
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf, send


def grand_totals(text):
    out = {}
    for key in ("received", "delivered", "deferred", "bounced", "rejected"):
        m = re.search(rf"^\s*(\d+)\s+{key}\b", text, re.M)
        out[key] = int(m.group(1)) if m else None
    return out


def test_pflogsumm_counts_a_run(moat_factory):
    with RecordingSink() as sink:
        sink.handler.rcpt_rules = {"gone@remote.test": (550, "5.1.1 no such user")}
        sink.handler.data_rules = [(451, "4.3.0 busy, try later")]
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY))
        with open(os.path.join(m.confdir, "master.cf"), "w") as f:
            f.write(relay_master_cf(m))
        m.start()
        # 1: deferred once (first DATA gets 451), then delivered
        q1 = send(m, "a@sender.test", ["first@remote.test"], b"Subject: 1\r\n\r\n1\r\n")
        m.wait_log(rf"{q1}: to=<first@remote.test>, .*status=sent")
        # 2, 3: delivered
        for i in (2, 3):
            send(m, "a@sender.test", [f"r{i}@remote.test"], f"Subject: {i}\r\n\r\n{i}\r\n".encode())
        # 4: bounced; its DSN (made by bounce, not received over SMTP) is the 4th delivery
        q4 = send(m, "a@sender.test", ["gone@remote.test"], b"Subject: 4\r\n\r\n4\r\n")
        m.wait_log(rf"{q4}: removed")
        sink.wait_count(4)
        m.wait_log(r"sender non-delivery notification: (\w+)")
        dsn = m.wait_log(r"sender non-delivery notification: (\w+)").group(1)
        m.wait_log(rf"{dsn}: removed")
        time.sleep(0.5)
        r = subprocess.run(["pflogsumm", "--syslog-name=moat", "--no-no-msg-size", m.maillog],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        t = grand_totals(r.stdout)
        assert t == {"received": 4, "delivered": 4, "deferred": 1, "bounced": 1, "rejected": 0}, (
            t, r.stdout[:3000], m.log())


def test_wedged_log_stage_does_not_stop_mail(moat_factory):
    """A log stage that stops reading (SIGSTOP) must not stop the stages
    that log: a log send waits at most 10 s, then the line goes to stderr
    (lost when that is a file: stages may not write files) and the stage
    goes on; every message is still delivered."""
    import signal
    import smtplib
    n = 300  # qmgr logs two lines per message: past what a channel buffers
    with RecordingSink() as sink:
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY))
        with open(os.path.join(m.confdir, "master.cf"), "w") as f:
            f.write(relay_master_cf(m))
        m.start()
        (log_pid,) = [p for p, s in m.stage_pids().items() if s == "log"]
        os.kill(log_pid, signal.SIGSTOP)
        try:
            with smtplib.SMTP("127.0.0.1", m.port, timeout=60) as s:
                s.ehlo("client.test.example")
                for i in range(n):
                    s.sendmail("a@sender.test", [f"r{i}@remote.test"], b"Subject: x\r\n\r\nbody\r\n")
            sink.wait_count(n, timeout=60)
        finally:
            os.kill(log_pid, signal.SIGCONT)
