"""A moat relay between a test client and a recording next hop."""
import os
import re
import signal
import smtplib

from conftest import MoatInstance

FAST_RETRY = (
    "minimal_backoff_time = 1s\n"
    "maximal_backoff_time = 2s\n"
    "queue_run_delay = 1s\n"
    "smtpd_error_sleep_time = 0\n")


def relay_main_cf(sink_port, extra=""):
    return (f"relayhost = [127.0.0.1]:{sink_port}\n"
            "mynetworks = 127.0.0.0/8\n" + extra)


def relay_master_cf(m):
    return m.default_master() + "relay unix - - y - 10 smtp\n"


def send(m, sender, rcpts, body, ehlo=True, source=None, host="127.0.0.1"):
    """Send one message through moat (from the source address, if given);
    returns the queue id from the 250 reply."""
    with smtplib.SMTP(host, m.port, timeout=30,
                      source_address=(source, 0) if source else None) as s:
        if ehlo:
            s.ehlo("client.test.example")
        else:
            s.helo("client.test.example")
        s.mail(sender)
        for r in rcpts:
            code, msg = s.rcpt(r)
            assert code == 250, (code, msg)
        code, msg = s.data(body)
        assert code == 250, (code, msg)
        mt = re.search(rb"queued as (\S+)", msg)
        assert mt, msg
        return mt.group(1).decode()


def strip_received(content):
    """The content minus the one Received header moat prepends."""
    assert content.startswith(b"Received: "), content[:200]
    end = 0
    lines = content.split(b"\r\n")
    i = 1
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        i += 1
    return b"\r\n".join(lines[i:])


def queue_ids_in(content):
    return re.findall(rb"\bid ([0-9A-Z]{8,})\b", content.split(b"\r\n\r\n")[0])


def qmgr_pid(m):
    pids = [p for p, s in m.stage_pids().items() if s == "qmgr"]
    assert len(pids) == 1, pids
    return pids[0]


def send_batch(m, n, rcpts, body):
    """n messages in incoming/ before qmgr sees any (it is stopped while they
    are sent): they exist together and are scheduled in one round."""
    pid = qmgr_pid(m)
    os.kill(pid, signal.SIGSTOP)
    try:
        return [send(m, "a@src.example", rcpts, body) for _ in range(n)]
    finally:
        os.kill(pid, signal.SIGCONT)
