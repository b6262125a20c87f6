"""The platform: moatd starts real, fully confined stage processes that talk
typed IPC, supervises them, reloads, and stops without leaving anything.
"""
import os
import pwd
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import HOOKS_BUILD, STAGE_POLICY, STAGES, pid_alive, proc_status

QUEUE_STAGES = {s for s, p in STAGE_POLICY.items() if p["root"] == "queue"}
HAS_NETWORK = {s for s, p in STAGE_POLICY.items() if not p["own_netns"]}
USER_PARAM = {"mail_owner": "moat", "network_user": "moat-net", "helper_user": "moat-aux",
              "tlskey_user": "moat-key"}


def uid_of(name):
    return pwd.getpwnam(name).pw_uid


def test_every_stage_runs_confined(moat):
    pids = moat.stage_pids()
    assert sorted(set(STAGE_POLICY)) == STAGES, STAGE_POLICY
    assert sorted(set(pids.values())) == STAGES, pids
    broker_net = os.readlink(f"/proc/{moat.proc.pid}/ns/net")
    for pid, stage in pids.items():
        st = proc_status(pid)
        uids = [int(u) for u in st["Uid"].split()]
        gids = [int(g) for g in st["Gid"].split()]
        assert all(u != 0 for u in uids), (stage, uids)
        assert all(g != 0 for g in gids), (stage, gids)
        assert st["Groups"] == "", (stage, st["Groups"])
        for cap in ("CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"):
            assert int(st[cap], 16) == 0, (stage, cap, st[cap])
        assert st["NoNewPrivs"] == "1", stage
        assert st["Seccomp"] == "2", stage
        root = os.readlink(f"/proc/{pid}/root")
        want = moat.queue if stage in QUEUE_STAGES else os.path.join(moat.queue, "empty")
        assert root == want, (stage, root)
        net = os.readlink(f"/proc/{pid}/ns/net")
        if stage in HAS_NETWORK:
            assert net == broker_net, stage
        else:
            assert net != broker_net, (stage, "shares the broker's network namespace")
        assert uids[0] == uid_of(USER_PARAM[STAGE_POLICY[stage]["user"]]), stage


def test_queue_tree_owners_and_modes(moat):
    mail = uid_of("moat")
    for d in ("incoming", "active", "deferred", "hold", "corrupt", "maildrop", "bounce", "defer"):
        st = os.lstat(os.path.join(moat.queue, d))
        assert st.st_uid == mail and (st.st_mode & 0o7777) == 0o700, d
    st = os.lstat(os.path.join(moat.queue, "empty"))
    assert st.st_uid == 0 and (st.st_mode & 0o7777) == 0o555
    assert os.listdir(os.path.join(moat.queue, "empty")) == []
    st = os.lstat(moat.queue)
    assert st.st_uid == 0 and (st.st_mode & 0o022) == 0


def test_sigkill_of_a_stage_is_restarted(moat):
    for victim in ("cleanup", "qmgr", "smtpd", "log"):
        before = {p for p, s in moat.stage_pids().items() if s == victim}
        assert before, victim
        for p in before:
            os.kill(p, signal.SIGKILL)
        deadline = time.time() + 10
        while time.time() < deadline:
            now = {p for p, s in moat.stage_pids().items() if s == victim}
            if now and not (now & before):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"{victim} not restarted:\n{moat.log()}")
        moat.wait_log(rf"process moat-{victim} pid {min(before)} killed by signal 9")
    moat.wait_ready()


def test_sigterm_leaves_no_process(moat):
    pids = set(moat.stage_pids())
    assert len(pids) >= len(STAGES), (pids, moat.ctl("status").stdout, moat.log())
    moat.proc.send_signal(signal.SIGTERM)
    assert moat.proc.wait(timeout=15) == 0
    time.sleep(0.2)
    assert not [p for p in pids if pid_alive(p)]
    assert not os.path.exists(os.path.join(moat.queue, "pid", "moatd.pid"))


def test_moatctl_status_reload_stop(moat):
    out = moat.ctl("status").stdout
    for stage in STAGES:
        assert f"stage {stage}" in out
    old = set(moat.stage_pids())
    assert "generation 1" in moat.ctl("reload").stdout
    deadline = time.time() + 10
    while time.time() < deadline:
        now = set(moat.stage_pids())
        if not (now & old) and len(now) >= len(STAGES):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"old processes not replaced after reload: {old & now}")
    moat.wait_ready()
    moat.wait_log(r"reload -- configuration")
    pid = moat.proc.pid
    assert "stopping" in moat.ctl("stop").stdout
    assert moat.proc.wait(timeout=15) == 0
    assert not pid_alive(pid)


def test_reload_keeps_bad_config_out(moat):
    path = os.path.join(moat.confdir, "main.cf")
    with open(path) as f:
        line = len(f.readlines()) + 1  # the line appended below
    with open(path, "a") as f:
        f.write("message_size_limit = lots\n")
    r = moat.ctl("reload", check=False)
    assert r.returncode != 0 and re.search(rf"main\.cf:{line}: .*message_size_limit", r.stderr), r
    moat.proc.send_signal(signal.SIGHUP)
    moat.wait_log(rf"error: reload: .*main\.cf:{line}: .*message_size_limit")
    assert moat.proc.poll() is None
    before = set(moat.stage_pids())
    time.sleep(0.3)
    assert set(moat.stage_pids()) == before


def test_bad_value_stops_startup_with_file_and_line(moat_factory):
    m = moat_factory(main_cf_extra="smtpd_timeout = soon\n")
    m.start(wait=False)
    assert m.proc.wait(timeout=10) != 0
    with open(os.path.join(m.confdir, "main.cf")) as f:
        line = [x.strip() for x in f].index("smtpd_timeout = soon") + 1
    err = m.read_stderr()
    assert re.search(rf"main\.cf:{line}: .*smtpd_timeout", err), err


def test_unknown_parameter_warns_with_suggestion(moat_factory):
    m = moat_factory(main_cf_extra="smptd_sender_restrictions = permit\n").start()
    assert "did you mean smtpd_sender_restrictions" in m.read_stderr() + m.log()


def test_second_moatd_on_same_queue_refused(moat):
    r = subprocess.run([f"{moat.build}/bin/moatd", "-c", moat.confdir, "-f"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0
    assert "another moatd is running" in r.stderr


def test_daemon_mode_writes_pid_file_and_stops(moat_factory):
    m = moat_factory()
    r = subprocess.run([f"{m.build}/bin/moatd", "-c", m.confdir], capture_output=True, text=True,
                       timeout=10, env=m.env)
    assert r.returncode == 0, r.stderr
    pidfile = os.path.join(m.queue, "pid", "moatd.pid")
    pid = None
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not (os.path.exists(pidfile) and open(pidfile).read()):
            time.sleep(0.05)
        pid = int(open(pidfile).read())
        assert pid_alive(pid)
        deadline = time.time() + 10
        while time.time() < deadline and "idle" not in m.ctl("status", check=False).stdout:
            time.sleep(0.1)
        kids = [int(l.split()[1]) for l in m.ctl("status").stdout.splitlines() if l.startswith("  pid")]
        m.seen_pids.update(kids)
        assert len(kids) >= len(STAGES)
        m.ctl("stop")
        assert not pid_alive(pid)
        assert not [k for k in kids if pid_alive(k)]
    finally:
        if pid and pid_alive(pid):   # never leave a daemon behind, even on failure
            os.kill(pid, signal.SIGKILL)


ATTACKS = ["open", "execve", "socket", "setuid", "ptrace", "mount"]


@pytest.mark.parametrize("action", ATTACKS)
def test_confined_stage_attempts_fail_or_kill(moat_factory, action):
    # smtp may open outbound sockets: that one attack only counts where there is no network
    targets = [s for s in STAGES if not (action == "socket" and s in HAS_NETWORK)]
    spec = ",".join(f"{s}:{action}" for s in targets)
    m = moat_factory(build=HOOKS_BUILD, env_extra={"MOAT_TEST_ATTACK": spec}).start(wait=False)
    for stage in targets:
        killed = rf"process moat-{stage} pid \d+ killed by seccomp: syscall \w+"
        failed = rf"{stage} pid \d+: test: attack {action}: failed: "
        mt = m.wait_log(rf"({killed}|{failed})", timeout=20)
        assert mt
    log = m.log()
    assert "SUCCEEDED" not in log, log
    if action in ("execve", "ptrace", "mount"):
        # these are never in any allowlist: the kill names the syscall
        for stage in targets:
            name = {"execve": "execve", "ptrace": "ptrace", "mount": "mount"}[action]
            assert re.search(rf"moat-{stage} pid \d+ killed by seccomp: syscall {name}", log), log
    if action == "socket":
        for stage in set(STAGES) - HAS_NETWORK:
            assert re.search(rf"moat-{stage} pid \d+ killed by seccomp: syscall socket|"
                             rf"{stage} pid \d+: test: attack socket: failed", log), stage


def test_forbidden_message_cuts_off_and_restarts(moat_factory):
    m = moat_factory(build=HOOKS_BUILD, env_extra={"MOAT_TEST_ATTACK": "cleanup:forbidden-msg"})
    m.start(wait=False)
    mt = m.wait_log(r"protocol violation on broker channel of cleanup pid (\d+)")
    bad = int(mt.group(1))
    m.wait_log(rf"killing cleanup pid {bad}: protocol violation")
    deadline = time.time() + 10
    while time.time() < deadline:
        cleanups = [p for p, s in m.stage_pids().items() if s == "cleanup"]
        if cleanups and bad not in cleanups:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("cleanup not restarted:\n" + m.log())
    assert not pid_alive(bad)


def test_forbidden_message_to_a_peer_stage_cuts_off_the_sender(moat_factory):
    m = moat_factory(build=HOOKS_BUILD, env_extra={"MOAT_TEST_ATTACK": "qmgr:forbidden-peer-msg"})
    m.start(wait=False)
    mt = m.wait_log(r"log pid \d+ reports protocol violation by qmgr pid (\d+): .*MSG_BROKER_STATUS")
    bad = int(mt.group(1))
    m.wait_log(rf"killing qmgr pid {bad}: protocol violation")
    deadline = time.time() + 10
    while time.time() < deadline:
        q = [p for p, s in m.stage_pids().items() if s == "qmgr"]
        if q and bad not in q:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("qmgr not restarted:\n" + m.log())


def write_file(path, data, mode):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    os.chown(path, uid_of("moat"), pwd.getpwnam("moat").pw_gid)


def test_qmgr_start_recovers_the_queue(moat_factory):
    m = moat_factory()
    m.start()
    m.stop()
    m.proc = None
    # a half-written file (mode 0600, no end record) and a leftover in active/
    write_file(os.path.join(m.queue, "incoming", "0000000000A00001"), b"V\x05MOAT1", 0o600)
    write_file(os.path.join(m.queue, "active", "0000000000A00002"), b"garbage", 0o700)
    m.start()
    m.wait_log(r"queue recovery: 1 requeued, 1 incomplete removed, 1 corrupt")
    assert os.listdir(os.path.join(m.queue, "incoming")) == []
    assert os.listdir(os.path.join(m.queue, "active")) == []
    assert os.listdir(os.path.join(m.queue, "corrupt")) == ["0000000000A00002"]


def test_inet_interfaces_bracket_form(moat_factory):
    """Postfix writes IPv6 interface addresses in brackets."""
    m = moat_factory(main_cf_extra="inet_interfaces = 127.0.0.1, [::1]\ninet_protocols = all\n")
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:  # a bare port: inet_interfaces decides
        f.write(m.default_master().replace(f"127.0.0.1:{m.port} inet", f"{m.port} inet"))
    m.start()
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family, socket.SOCK_STREAM) as c:
            c.settimeout(30)
            c.connect((host, m.port))
            assert c.recv(100).startswith(b"220 "), host


def test_startup_fatal_reaches_stderr_with_maillog_file(moat_factory):
    """A fatal error after the log output is open (here: master.cf) shows on
    stderr in -f mode, not only in maillog_file."""
    m = moat_factory(master_cf="log unix - - y - 1 log\nbogus unix - - y - 1 nosuchstage\n")
    m.start(wait=False)
    assert m.proc.wait(timeout=20) != 0
    assert re.search(r"fatal: master\.cf:2: service bogus: unknown stage program", m.read_stderr()), \
        m.read_stderr() + m.log()


def test_master_service_disable(moat_factory):
    m = moat_factory(main_cf_extra="master_service_disable = inet\n")
    m.start(wait=False)
    m.wait_log(rf"service 127\.0\.0\.1:{m.port}/inet disabled by master_service_disable")
    deadline = time.time() + 20
    while time.time() < deadline and set(m.stage_pids().values()) != set(STAGES) - {"smtpd", "screen"}:
        time.sleep(0.1)
    assert set(m.stage_pids().values()) == set(STAGES) - {"smtpd", "screen"}, m.stage_pids()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", m.port), timeout=10)
    # by name/type: only that service
    m2 = moat_factory(main_cf_extra="master_service_disable = bounce/unix\n")
    m2.start(wait=False)
    m2.wait_log(r"service bounce/unix disabled by master_service_disable")
    with socket.create_connection(("127.0.0.1", m2.port), timeout=30) as c:
        c.settimeout(30)
        assert c.recv(100).startswith(b"220 ")


def test_broker_keeps_only_its_capabilities(moat):
    """After start-up moatd keeps CAP_KILL and CAP_NET_BIND_SERVICE for itself
    and, only permitted, the five a stage needs to confine itself."""
    bits = lambda *caps: sum(1 << c for c in caps)  # noqa: E731
    KILL, SETGID, SETUID, SETPCAP, NET_BIND, SYS_CHROOT, SYS_ADMIN = 5, 6, 7, 8, 10, 18, 21
    st = proc_status(moat.proc.pid)
    assert int(st["CapEff"], 16) == bits(KILL, NET_BIND), st["CapEff"]
    kept = bits(KILL, NET_BIND, SETGID, SETUID, SETPCAP, SYS_CHROOT, SYS_ADMIN)
    assert int(st["CapPrm"], 16) == kept, st["CapPrm"]
    assert int(st["CapBnd"], 16) == kept, st["CapBnd"]
    assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1"
