"""A compromised stage may deny service to itself, never to the broker or to
another stage. Each test runs moat's test build with one attack
(skeleton/stage_test.c, MOAT_TEST_ATTACK) made by a confined stage right
after sandbox_enter, checks that the attack did not get what it wanted, and
that afterwards moatd answers, the other stages are the same processes, and a
message still goes from an SMTP client to the next hop.
"""
import os
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from conftest import HOOKS_BUILD, pid_alive
from mailpeers import RecordingSink
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf, send

SO_PASSRIGHTS = 83


def kernel_has_passrights():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        a.setsockopt(socket.SOL_SOCKET, SO_PASSRIGHTS, 0)
        return True
    except OSError:
        return False
    finally:
        a.close()
        b.close()


def attacked(moat_factory, sink, spec, extra="", master_edit=None, start=True, prefix=None):
    m = moat_factory(build=HOOKS_BUILD, main_cf_extra=relay_main_cf(sink.port, FAST_RETRY + extra),
                     env_extra={"MOAT_TEST_ATTACK": spec})
    master = relay_master_cf(m)
    if master_edit:
        master = master_edit(master)
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(master)
    if prefix:
        m.cmd_prefix = prefix
    if start:
        m.start()
    return m


def status(m, timeout=20):
    """moatctl status; a broker that cannot answer within timeout fails the test."""
    try:
        r = subprocess.run([f"{m.build}/bin/moatctl", "-c", m.confdir, "status"],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("moatd did not answer moatctl status: blocked\n" + m.log()[-3000:])
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def assert_mail_flows(m, sink, tag):
    assert m.proc.poll() is None, "moatd exited:\n" + m.read_stderr()[-3000:]
    status(m)
    m.wait_ready(timeout=60)
    before = len(sink.messages)
    send(m, "a@sender.test", ["b@remote.test"], f"Subject: {tag}\r\n\r\nafter the attack\r\n")
    deadline = time.time() + 60
    while time.time() < deadline:
        if any(tag.encode() in x.content for x in sink.messages[before:]):
            return
        time.sleep(0.1)
    raise AssertionError(f"message {tag} never reached the next hop:\n" + m.log()[-4000:])


def others(m, exclude):
    """{pid: stage} of the stages an attack by `exclude` must leave alone."""
    return {p: s for p, s in m.stage_pids().items() if s not in exclude}


def assert_untouched(m, before):
    gone = {p: s for p, s in before.items() if not pid_alive(p)}
    assert not gone, f"stages killed by another stage's attack: {gone}\n" + m.log()[-4000:]


def test_fd_on_broker_channel_is_refused(moat_factory):
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtpd:send-fd")
        if kernel_has_passrights():
            # SO_PASSRIGHTS off on the broker's end: the kernel refuses the send
            m.wait_log(r"smtpd pid \d+: test: attack send-fd: failed: Operation not permitted")
            assert "protocol violation on broker channel" not in m.log()
        else:
            m.wait_log(r"protocol violation on broker channel of smtpd pid \d+: .*fd")
        assert_mail_flows(m, sink, "fd-refused")


def test_lingering_socket_cannot_block_the_broker(moat_factory):
    """The stage that holds client sockets (screen; smtpd has none until
    screen passes one) tries to hand the broker a TCP socket with SO_LINGER
    3600 s and a full send queue as the last reference to it (seen: the
    broker blocked in close(), with SIGTERM, moatctl and all restarts
    frozen). SO_LINGER is no option a stage may set: seccomp kills it."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "screen:linger-fd")
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect(("127.0.0.1", m.port))   # never read: the smtpd's writes pile up
        try:
            deadline = time.time() + 30
            while time.time() < deadline and not re.search(
                    r"killed by seccomp: syscall setsockopt|attack linger-fd: ", m.log()):
                time.sleep(0.2)
            time.sleep(1)
            status(m)   # seen: blocked in close() for the linger time
            assert re.search(r"moat-screen pid \d+ killed by seccomp: syscall setsockopt", m.log())
            assert_mail_flows(m, sink, "after-linger")
        finally:
            c.close()


def test_forged_violation_reports_kill_only_the_forger(moat_factory):
    """smtpd reports every pid near its own, again and again (seen: the broker
    SIGKILLed whatever was named; cleanup went into "crash loop" in 2 s)."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtpd:forge-violation", start=False)
        m.start(wait=False)
        m.wait_log(r"smtpd pid \d+ reported \w+ pid \d+, to which it was never joined: a forged report")
        m.wait_log(r"killing smtpd pid \d+: forged violation report")
        time.sleep(5)   # the attack ran 4 s: it was cut short
        log = m.log()
        assert "crash loop" not in log, log
        # smtpd held a channel to log only: nothing else may have been killed on its word
        assert not re.search(r"killing (cleanup|qmgr|bounce|dns|smtp) pid", log), log
        before = others(m, {"smtpd"})
        assert_mail_flows(m, sink, "after-forgery")
        assert_untouched(m, before)


def test_report_flood_is_rate_limited_and_never_a_crash_loop(moat_factory):
    """smtpd takes cleanup channels and reports each cleanup, 50 times."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtpd:report-flood")
        m.wait_log(r"smtpd pid \d+ reports too many violations", timeout=30)
        time.sleep(3)   # the rest of the 50 (the note saying it ended may be rate-limited)
        log = m.log()
        assert "crash loop" not in log, log
        kills = re.findall(r"killing cleanup pid \d+: protocol violation", log)
        assert 1 <= len(kills) <= 10, (len(kills), log[-4000:])
        assert_mail_flows(m, sink, "after-report-flood")


def test_peer_request_flood_does_not_fork_without_bound(moat_factory):
    """smtpd sends 200 PEER_REQUESTs for cleanup (seen: 197 cleanup processes,
    480 MB, in 2 s)."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtpd:peer-flood")
        most = 0
        deadline = time.time() + 6
        while time.time() < deadline:
            most = max(most, sum(1 for s in m.stage_pids().values() if s == "cleanup"))
            time.sleep(0.05)
        m.wait_log(r"smtpd pid \d+ asked for a channel to cleanup while it holds 2 open: denied")
        assert most <= 4, f"{most} cleanup processes\n" + m.log()[-3000:]
        assert_mail_flows(m, sink, "after-peer-flood")


def stamp_seconds(line):
    """Seconds since midnight of a syslog-style line ("Dec  6 05:23:25 ...")."""
    h, mi, sec = (int(x) for x in line.split()[2].split(":"))
    return h * 3600 + mi * 60 + sec


def test_leave_flood_is_answered_without_blocking_the_broker(moat_factory):
    """smtpd sends 5,000 MSG_BROKER_LEAVE and reads none of the STOP answers:
    the broker's sends fail once the channel is full, its warnings about that
    process are rate-limited, and the rest of moat goes on."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtpd:leave-flood")
        m.wait_log(r"smtpd pid \d+: test: attack leave-flood: SUCCEEDED")
        assert m.ctl("status").returncode == 0
        m.wait_log(r"smtpd pid \d+: \d+ lines about it not logged \(rate limit\)")
        log = m.log()
        # A burst of 20 lines, then one a second: before the dropped count at
        # most 20; in all at most 20 plus the seconds the warnings span.
        burst = log.split("lines about it not logged (rate limit)")[0]
        assert len(re.findall(r"stop to smtpd pid \d+", burst)) <= 20, log[-3000:]
        stops = [l for l in log.splitlines() if re.search(r"stop to smtpd pid \d+", l)]
        span = (stamp_seconds(stops[-1]) - stamp_seconds(stops[0])) % 86400
        assert len(stops) <= 20 + span + 1, log[-3000:]
        assert_mail_flows(m, sink, "after-leave-flood")


def test_spawn_failure_throttles_and_never_ends_the_broker(moat_factory):
    """At a low fd limit every new smtpd costs the broker an fd until
    socketpair fails (seen: "moatd: fatal: /dev/null: Too many open files"
    took every stage down). Each client sends EHLO, so that screen hands it
    to an smtpd of its own."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "", extra="service_throttle_time = 1s\nmax_idle = 3s\n",
                     master_edit=lambda t: t.replace(" 20 smtpd", " 60 smtpd"),
                     prefix=["prlimit", "--nofile=30:30"])
        held = []
        try:
            for _ in range(40):
                c = socket.create_connection(("127.0.0.1", m.port), timeout=30)
                held.append(c)
                c.sendall(b"EHLO client.test\r\n")
                if "throttling it" in m.log():
                    break
                time.sleep(0.2)
            m.wait_log(r"(service \S+ \(moat-smtpd\)|channel for screen pid \d+): socketpair: "
                       r"Too many open files")
            assert m.proc.poll() is None, m.read_stderr()[-3000:]
        finally:
            for c in held:
                c.close()
        # idle smtpds leave after max_idle and give the broker its fds back
        assert_mail_flows(m, sink, "after-emfile")


def test_lying_busy_status_gets_no_extra_channels(moat_factory):
    """The first smtp process reports busy = 0xffffffff in every status (seen:
    it received every delivery channel, and the queue files with them)."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtp:busy-lie")
        m.wait_log(r"smtp pid \d+: test: attack busy-lie: SUCCEEDED")
        errors = []

        def one(i):
            try:
                send(m, "a@sender.test", ["b@remote.test"], f"Subject: lie-{i}\r\n\r\nx\r\n")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        sink.wait_count(8, timeout=60)
        log = m.log()
        # an honest smtp refuses a second channel: the broker must never offer one
        assert "refusing a second channel" not in log, log[-4000:]
        assert "delivery agent died" not in log, log[-4000:]


def test_listener_cannot_be_shut_down_from_a_stage(moat_factory):
    """smtpd calls shutdown() on the shared listening socket (seen: every
    connection refused until moatd was restarted)."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtpd:shutdown-listener")
        m.wait_log(r"moat-smtpd pid \d+ killed by seccomp: syscall shutdown")
        with socket.create_connection(("127.0.0.1", m.port), timeout=30) as c:
            c.settimeout(30)
            assert c.recv(100).startswith(b"220 "), "no banner"
        assert_mail_flows(m, sink, "after-shutdown")


@pytest.mark.parametrize("action,line", [("note-flood", "test: flood"),
                                         ("seccomp-flood", "seccomp violation: syscall execve")])
def test_broker_log_lines_about_a_stage_are_rate_limited(moat_factory, action, line):
    """100,000 notes or fake seccomp reports (seen: a 212 MB log in 6 s)."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, f"smtpd:{action}")
        m.wait_log(r"smtpd pid \d+: \d+ lines about it not logged \(rate limit\)", timeout=60)
        assert_mail_flows(m, sink, f"after-{action}")
        log = m.log()
        assert log.count(line) < 200, log.count(line)
        assert os.path.getsize(m.maillog) < 1 << 20


def test_setsockopt_is_allowed_by_option_not_by_level(moat_factory):
    """smtp joins a multicast group (seen: IP_ADD_MEMBERSHIP allowed)."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "smtp:multicast")
        m.wait_log(r"moat-smtp pid \d+ killed by seccomp: syscall setsockopt")
        assert "attack multicast: SUCCEEDED" not in m.log()
        assert_mail_flows(m, sink, "after-multicast")


def test_stage_stderr_is_not_the_brokers(moat_factory):
    """In -f mode a stage wrote forged, unescaped lines on the broker's stderr.
    The log stage does it: it may write files, so a stderr that is a file
    (as here) takes the line, as a terminal would."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "log:stderr")
        m.wait_log(r"log pid \d+: test: attack stderr: ")
        assert "FORGED-BY-A-STAGE" not in m.read_stderr()
        assert "FORGED-BY-A-STAGE" not in m.log()
        assert_mail_flows(m, sink, "after-stderr")


def test_log_stage_cannot_rewrite_earlier_lines(moat_factory):
    """The log stage cleared O_APPEND and wrote at offset 0 of the file the
    broker also writes."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "log:clear-append", start=False)
        m.start(wait=False)
        m.wait_log(r"(moat-log pid \d+ killed by seccomp: syscall fcntl|attack clear-append)")
        m.wait_ready(timeout=60)
        with open(m.maillog, "rb") as f:
            head = f.read(200)
        assert not head.startswith(b"FORGED"), head
        assert_mail_flows(m, sink, "after-clear-append")
        assert b"FORGED-AT-OFFSET-0" not in open(m.maillog, "rb").read()


def pidfd_getfd(pid, fd):
    """A copy of fd of process pid (pidfd_getfd(2), as root)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        r = libc.syscall(438, pidfd, fd, 0)
        if r < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        return r
    finally:
        os.close(pidfd)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_dead_listener_is_not_spun_on(moat_factory):
    """The listening socket dies under screen (here shut down by root from
    outside, since no stage may any more): screen says so and stops polling
    it (seen: the replacement smtpd spun at 95% CPU)."""
    with RecordingSink() as sink:
        m = attacked(moat_factory, sink, "")
        screen = [p for p, s in m.stage_pids().items() if s == "screen"]
        assert screen
        fd = pidfd_getfd(screen[0], 5)
        try:
            socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)
        finally:
            os.close(fd)
        # the client makes the dead listener readable: accept fails once, then it is dropped
        with socket.socket() as c:
            c.settimeout(5)
            try:
                c.connect(("127.0.0.1", m.port))
            except OSError:
                pass
        m.wait_log(r"screen\[\d+\]: error: listening socket 5: accept: .*; no longer watched")
        pid = screen[0]
        before = cpu_ticks(pid)
        time.sleep(2)
        assert cpu_ticks(pid) - before < 50, "screen spins on its dead listener"
        assert m.proc.poll() is None
        status(m)
