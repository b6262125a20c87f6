"""Shared fixtures: a real moatd, started as root on loopback in a temporary
configuration and queue tree, stopped by its own pid at the end of the test.

Every test that starts moat gets a MoatInstance; teardown stops moatd with
SIGTERM and fails the test if any moat process it started is still alive
afterwards (a leftover is killed so it cannot disturb later tests).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

BUILD = os.environ.get("MOAT_BUILD", os.path.abspath("../../build"))
HOOKS_BUILD = os.environ.get("MOAT_HOOKS_BUILD", os.path.join(BUILD, "hooks"))
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def read_stage_table():
    """{name: set of flags} from sandbox/stages.def, the one list of stages."""
    with open(os.path.join(TOP, "sandbox", "stages.def")) as f:
        text = f.read()
    out = {}
    for name, flags in re.findall(r'^STAGE\(\w+, "(\w+)", ([^)]*)\)', text, re.M):
        out[name] = set(re.findall(r"STAGEDEF_F_(\w+)", flags))
    assert out, "no STAGE lines in sandbox/stages.def"
    return out


def read_policy_table():
    """{stage: {root, user, own_netns}} from docs/sandbox.md's per-stage table,
    which tests/unit/test_sandbox.c checks against sandbox/policy.c."""
    out = {}
    with open(os.path.join(TOP, "docs", "sandbox.md")) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 6 and cells[0] in STAGE_FLAGS:
                out[cells[0]] = {"root": cells[1], "user": cells[2], "own_netns": cells[3] == "yes"}
    return out


STAGE_FLAGS = read_stage_table()
STAGES = sorted(STAGE_FLAGS)
STAGE_POLICY = read_policy_table()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_children(ppid):
    """pids whose parent is ppid (from /proc/*/stat)."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid:
            kids.append(int(d))
    return kids


def proc_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); treat it as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


class MoatInstance:
    def __init__(self, build, main_cf_extra="", master_cf=None, env_extra=None):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="moat-test-")
        self.confdir = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.maillog = os.path.join(self.dir, "maillog")
        self.port = free_port()
        os.makedirs(self.confdir)
        with open(os.path.join(self.confdir, "main.cf"), "w") as f:
            f.write(
                f"queue_directory = {self.queue}\n"
                f"daemon_directory = {build}/bin\n"
                f"maillog_file = {self.maillog}\n"
                "myhostname = mx.test.example\n"
                "inet_interfaces = 127.0.0.1\n"
                "inet_protocols = ipv4\n"
                # No test may query a resolver beyond loopback (the host's is
                # not): tests that need DNS start dnsmasq and set their own
                # dns_resolver_address; client name lookups are tested there.
                "dns_resolver_address = 127.0.0.1:9\n"
                "smtpd_peername_lookup = no\n" + main_cf_extra)
        if master_cf is None:
            master_cf = self.default_master()
        with open(os.path.join(self.confdir, "master.cf"), "w") as f:
            f.write(master_cf)
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        if env_extra:
            self.env.update(env_extra)
        self.proc = None
        self.seen_pids = set()
        self.cmd_prefix = []    # e.g. ["prlimit", "--nofile=40"]: how moatd is started
        self.preexec = None     # runs in moatd's process before exec (e.g. a lower rlimit)

    def default_master(self):
        text = (
            "# service type private unpriv chroot wakeup maxproc command\n"
            f"127.0.0.1:{self.port} inet n - y - 20 smtpd\n"
            "cleanup unix n - y - 0 cleanup\n"
            "qmgr unix n - y 300 1 qmgr\n"
            "smtp unix - - y - 10 smtp\n"
            "bounce unix - - y - 1 bounce\n"
            "log unix - - y - 1 log\n")
        if os.path.exists(os.path.join(self.build, "bin", "moat-lookup")):
            text += "lookup unix - - y - 1 lookup\n"
        if os.path.exists(os.path.join(self.build, "bin", "moat-dns")):
            text += "dns unix - - y - 1 dns\n"
        if os.path.exists(os.path.join(self.build, "bin", "moat-policy")):
            text += "policy unix - - y - 1 policy\n"
        if os.path.exists(os.path.join(self.build, "bin", "moat-tlskey")):
            text += "tlskey unix - - y - 1 tlskey\n"
        return text

    def start(self, wait=True):
        self.stderr = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(
            self.cmd_prefix + [f"{self.build}/bin/moatd", "-c", self.confdir, "-f"],
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr, env=self.env,
            preexec_fn=self.preexec)
        if wait:
            self.wait_ready()
        return self

    def stage_pids(self):
        """{pid: stage} for every live child of moatd."""
        out = {}
        for pid in proc_children(self.proc.pid):
            comm = proc_comm(pid)
            if comm and comm.startswith("moat-") and pid_alive(pid):
                out[pid] = comm[len("moat-"):]
                self.seen_pids.add(pid)
        return out

    def ctl(self, *args, check=True):
        r = subprocess.run([f"{self.build}/bin/moatctl", "-c", self.confdir, *args],
                           capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, r.stdout + r.stderr
        return r

    def status_ready(self):
        r = self.ctl("status", check=False)
        if r.returncode != 0:
            return False
        lines = r.stdout.splitlines()
        services = [l for l in lines if l.startswith("service ")]
        if not services:
            return False
        # every service has at least one process that finished starting (a
        # "pid N idle|busy" line: the service line's "idle 0" is a count)
        blocks = r.stdout.split("service ")[1:]
        return all(re.search(r"(?m)^\s+pid \d+ (idle|busy)\b", b) for b in blocks)

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("moatd exited: " + self.read_stderr())
            if self.status_ready() and len(set(self.stage_pids().values())) >= self.nservices():
                return
            time.sleep(0.1)
        raise AssertionError("moat did not become ready:\n" + self.ctl("status", check=False).stdout
                             + self.log())

    def nservices(self):
        """Stage programs master.cf runs: the command column (the 8th) of each
        service line; an inet line runs screen in front of its smtpd."""
        with open(os.path.join(self.confdir, "master.cf")) as f:
            rows = [l.split() for l in f if l.strip() and not l.startswith("#") and not l[0].isspace()]
        names = {r[7] for r in rows if len(r) > 7}
        if any(r[1] == "inet" for r in rows if len(r) > 7):
            names.add("screen")
        return len(names)

    def log(self):
        try:
            with open(self.maillog) as f:
                return f.read()
        except OSError:
            return ""

    def read_stderr(self):
        with open(os.path.join(self.dir, "stderr")) as f:
            return f.read()

    def wait_log(self, pattern, timeout=15):
        import re
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.log())
            if m:
                return m
            time.sleep(0.1)
        raise AssertionError(f"log never matched {pattern!r}:\n{self.log()}")

    def stop(self):
        """SIGTERM moatd; return the pids of moat processes still alive after."""
        if self.proc is None:
            return []
        self.stage_pids()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        deadline = time.time() + 5
        left = [p for p in self.seen_pids if pid_alive(p)]
        while left and time.time() < deadline:
            time.sleep(0.05)
            left = [p for p in self.seen_pids if pid_alive(p)]
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.stderr.close()
        return left

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def moat_factory():
    made = []

    def make(build=BUILD, cls=None, **kw):
        m = (cls or MoatInstance)(build, **kw)
        made.append(m)
        return m

    yield make
    leftovers = []
    for m in made:
        leftovers += m.stop()
        m.cleanup()
    assert not leftovers, f"moat processes left behind: {leftovers}"


@pytest.fixture
def moat(moat_factory):
    return moat_factory().start()


@pytest.fixture
def sink():
    """A recording next hop (mailpeers.RecordingSink) on a free loopback port."""
    from mailpeers import RecordingSink   # here: mailpeers imports this module
    with RecordingSink() as s:
        yield s
