"""moat against Postfix on this machine, in one run.

For each MTA (a private Postfix instance with its own configuration and
queue directories on loopback ports, never the system's Postfix; and moat),
and for each load shape (smtp-source -s 20 -m 2000 -l 5120: a new connection
per message; the same with -d: many messages per connection), relay through
the MTA to Postfix's smtp-sink and report: messages/s end to end (until the
sink has counted every message), CPU milliseconds per message (all processes
of the MTA, including those that exited during the run), and the peak PSS of
the MTA's processes. Then moat/Postfix ratios, and the disk's own limit for
durable commits (20 writers: create + 5 KB + fsync + rename + dir fsync), and
the same reusing each file instead of creating one (what moat's queue does).

The tables scenario (issue 8) gives both MTAs the same tables, written by
tables.py: a 100,000-entry hash access map asked by check_client_access,
check_sender_access and check_recipient_access in
smtpd_recipient_restrictions (nothing in it matches the test traffic but the
recipient's OK, so every key of the client and the sender is looked up on
every message), relay_recipient_maps listing the recipients (relay_domains
names their domain), transport_maps routing that domain to the sink, and 50
pcre header_checks that match no header of the test mail. moatmap builds
moat's hash files, Debian's postmap Postfix's. Before it measures, each run
sends one message to a recipient the relay_recipient_maps do not list: a row
whose MTA does not refuse it is INVALID (the tables were not consulted).

Usage: bench.py BINDIR PROBE [--messages N] [--scenarios plain,tables]
       bench.py BINDIR PROBE --verify   (one message through each MTA with
       verbose logs: counts the table lookups each made; measures nothing)

Both MTAs run with smtpd_peername_lookup = no: the bench measures the mail
path, and must not send DNS queries beyond loopback.

A row where the sink did not count every message is marked INVALID.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tables  # noqa: E402

MESSAGES = 2000
WARMUP = 100
SESSIONS = 20
SIZE = 5120
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


class Sink:
    def __init__(self):
        self.port = free_port()
        self.count = 0
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", "nobody", f"127.0.0.1:{self.port}", "1024"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        wait_port(self.port)

    def _read(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            buf = (buf + chunk)[-256:]
            m = re.findall(rb"mesg=(\d+)", buf)
            if m:
                self.count = int(m[-1])

    def wait(self, n, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.count >= n:
                return True
            time.sleep(0.01)
        return False

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait()


def tree(root):
    """pids of root and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def cpu_ticks(root):
    """utime+stime of the tree, plus what root collected from reaped children."""
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
        if p == root:
            total += int(fields[13]) + int(fields[14])
    return total


def pss_kb(root):
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Postfix:
    name = "postfix"

    def __init__(self, top, sink_port, with_tables=False, verbose=False):
        self.dir = os.path.join(top, "postfix")
        self.port = free_port()
        etc, q, data = (os.path.join(self.dir, x) for x in ("etc", "queue", "data"))
        for d in (etc, q, data):
            os.makedirs(d)
        shutil.chown(data, "postfix")
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(f"""compatibility_level = 3.6
queue_directory = {q}
data_directory = {data}
myhostname = bench.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink_port}
maillog_file = {self.dir}/maillog
maillog_file_prefixes = {top}
alias_maps =
alias_database =
local_recipient_maps =
smtpd_banner = $myhostname ESMTP
smtpd_peername_lookup = no
""")
        if with_tables:
            tables.add(os.path.join(etc, "main.cf"), sink_port, ["postmap", "-c", etc])
        v = " -v" if verbose else ""
        services = ["pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup",
                    "qmgr unix n - n 300 1 qmgr", "rewrite unix - - n - - trivial-rewrite",
                    "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
                    "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify",
                    "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
                    "smtp unix - - n - - smtp", "relay unix - - n - - smtp",
                    "showq unix n - n - - showq", "error unix - - n - - error",
                    "retry unix - - n - - error", "discard unix - - n - - discard",
                    "anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache",
                    "postlog unix-dgram n - n - 1 postlogd"]
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{self.port} inet n - n - - smtpd{v}\n"
                    + "\n".join(s + (v if s.split()[0] in ("cleanup", "rewrite") else "")
                                 for s in services) + "\n")
        self.etc = etc
        self.q = q

    def start(self):
        r = subprocess.run(["script", "-qc", f"postfix -c {self.etc} start", "/dev/null"],
                           capture_output=True, text=True)
        wait_port(self.port)
        with open(os.path.join(self.q, "pid", "master.pid")) as f:
            self.root = int(f.read().strip())
        return r

    def stop(self):
        subprocess.run(["script", "-qc", f"postfix -c {self.etc} stop", "/dev/null"],
                       capture_output=True, text=True)
        deadline = time.time() + 20
        while time.time() < deadline and os.path.exists(f"/proc/{self.root}"):
            time.sleep(0.1)


class Moat:
    name = "moat"

    def __init__(self, top, sink_port, bindir, with_tables=False, verbose=False):
        self.dir = os.path.join(top, "moat")
        self.port = free_port()
        self.bindir = bindir
        self.etc = os.path.join(self.dir, "etc")
        self.verbose = verbose
        os.makedirs(self.etc)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""queue_directory = {self.dir}/queue
daemon_directory = {bindir}
maillog_file = {self.dir}/maillog
myhostname = bench.localdomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink_port}
smtpd_peername_lookup = no
""")
        if with_tables:
            tables.add(os.path.join(self.etc, "main.cf"), sink_port,
                       [f"{bindir}/moatmap", "-c", self.etc])
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{self.port} inet n - y - 100 smtpd\n"
                    "cleanup unix n - y - 100 cleanup\nqmgr unix n - y 300 1 qmgr\n"
                    "smtp unix - - y - 100 smtp\nrelay unix - - y - 100 smtp\n"
                    "bounce unix - - y - 1 bounce\nlog unix - - y - 1 log\n"
                    + ("lookup unix - - y - 1 lookup\n" if with_tables else ""))

    def start(self):
        self.proc = subprocess.Popen([f"{self.bindir}/moatd", "-c", self.etc, "-f"]
                                     + (["-v"] if self.verbose else []),
                                     stdout=subprocess.DEVNULL, stderr=open(f"{self.dir}/stderr", "w"))
        self.root = self.proc.pid
        try:
            wait_port(self.port)
        except RuntimeError:
            self.proc.poll() is None and self.proc.send_signal(signal.SIGTERM)
            with open(f"{self.dir}/stderr") as f:
                raise RuntimeError(f"moat did not start: {f.read()[-2000:]}") from None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def smtp_source(port, n, keep, subject=None):
    args = ["smtp-source", "-s", str(SESSIONS), "-m", str(n), "-l", str(SIZE),
            "-f", "bench@sender.test", "-t", "sink@remote.test"]
    if keep:
        args.append("-d")
    if subject:
        args += ["-S", subject]
    return subprocess.run(args + [f"127.0.0.1:{port}"], capture_output=True, text=True)


def run_one(make_mta, keep, with_tables):
    sink = Sink()
    mta = make_mta(sink.port, with_tables)
    mta.start()
    subject = "bench message" if with_tables else None
    try:
        if with_tables:
            why = tables.unlisted_refused(mta.port)
            if why:
                return dict(valid=False, why=why)
        smtp_source(mta.port, WARMUP, keep, subject)
        if not sink.wait(WARMUP, 60):
            return dict(valid=False, why="warm-up not delivered")
        peak = [0]
        stop = threading.Event()

        def sample():
            while not stop.wait(0.1):
                peak[0] = max(peak[0], pss_kb(mta.root))

        threading.Thread(target=sample, daemon=True).start()
        c0 = cpu_ticks(mta.root)
        t0 = time.time()
        src = smtp_source(mta.port, MESSAGES, keep, subject)
        ok = sink.wait(WARMUP + MESSAGES)
        t1 = time.time()
        c1 = cpu_ticks(mta.root)
        stop.set()
        got = sink.count - WARMUP
        return dict(valid=ok and got >= MESSAGES, rate=MESSAGES / (t1 - t0),
                    cpu_ms=(c1 - c0) * 1000.0 / TICK / MESSAGES, pss_mb=peak[0] / 1024.0,
                    got=got, src_rc=src.returncode, why="" if ok else f"sink counted {got}")
    finally:
        mta.stop()
        sink.stop()


def disk_limit(probe, top, *mode):
    d = tempfile.mkdtemp(dir=top)
    r = subprocess.run([probe, d, "100", "20", *mode], capture_output=True, text=True)
    shutil.rmtree(d, ignore_errors=True)
    return float(r.stdout.strip() or 0)


SHAPES = {      # name: (scenario, smtp-source -d, with the tables)
    "new conn/msg": ("plain", False, False),
    "-d (reuse)": ("plain", True, False),
    "tables, new": ("tables", False, True),
    "tables, -d": ("tables", True, True),
}


def makers(top, bindir, verbose=False):
    """(name, make(sink_port, with_tables)) for each MTA, each in a directory of its own."""
    def sub():
        d = tempfile.mkdtemp(dir=top)
        os.chmod(d, 0o755)
        return d
    return (("postfix", lambda port, t: Postfix(sub(), port, t, verbose)),
            ("moat", lambda port, t: Moat(sub(), port, bindir, t, verbose)))


def print_row(r):
    if r.get("rate") is None:
        print(f"{r['shape']:14} {r['mta']:8} INVALID ({r['why']})")
        return
    print(f"{r['shape']:14} {r['mta']:8} {r['rate']:8.0f} {r['cpu_ms']:11.2f} {r['pss_mb']:12.1f}"
          + ("" if r["valid"] else f"  INVALID ({r['why']})"), flush=True)


def print_ratios(rows):
    for shape in SHAPES:
        p = next((r for r in rows if r["shape"] == shape and r["mta"] == "postfix"), None)
        m = next((r for r in rows if r["shape"] == shape and r["mta"] == "moat"), None)
        if p and m and p.get("rate") and m.get("rate") and p["valid"] and m["valid"]:
            print(f"ratio moat/postfix, {shape:14}: rate {m['rate'] / p['rate']:.2f}x, "
                  f"CPU/msg {m['cpu_ms'] / p['cpu_ms']:.2f}x, peak PSS {m['pss_mb'] / p['pss_mb']:.2f}x")


def print_disk(probe, top):
    disk = disk_limit(probe, top)
    disk_reuse = disk_limit(probe, top, "reuse")
    disk_wipe = disk_limit(probe, top, "reuse-wipe")
    disk_trunc = disk_limit(probe, top, "reuse-trunc")
    print(f"disk limit: {disk:.0f} durable commits/s (20 writers: create, 5 KB, fsync, rename, dir fsync)")
    print(f"            {disk_reuse:.0f} durable commits/s reusing the file instead "
          f"(rename back, 5 KB, fsync, rename, dir fsync: no inode allocated or freed)")
    print(f"            {disk_wipe:.0f} durable commits/s reusing it after zeros over the "
          f"delivered bytes (moat's spare/ rule), {disk_trunc:.0f} after a cut to 0 instead")


def verify(top, bindir, keep_logs):
    """One message through each MTA with the tables and verbose logs; the
    table lookups each logged. The logs are copied to keep_logs/NAME.log."""
    for name, make in makers(top, bindir, verbose=True):
        sink = Sink()
        mta = make(sink.port, True)
        mta.start()
        try:
            refused = tables.rcpt_reply(mta.port, tables.UNLISTED)
            smtp_source(mta.port, 1, False, "bench message")
            delivered = sink.wait(1, 60)
            time.sleep(2)      # the last log lines
        finally:
            mta.stop()
            sink.stop()
        with open(os.path.join(mta.dir, "maillog"), errors="replace") as f:
            log = f.read()
        if keep_logs:
            with open(os.path.join(keep_logs, f"{name}.log"), "w") as f:
                f.write(log)
        print(f"{name}: {tables.UNLISTED}: {refused}; {tables.RCPT}: "
              + ("delivered" if delivered else "NOT delivered"))
        print("  table lookups by process: " + ", ".join(
            f"{who} {n}" for who, n in sorted(tables.count_lookups(name, log).items())))


def main():
    global MESSAGES
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("probe")
    ap.add_argument("--messages", type=int, default=MESSAGES)
    ap.add_argument("--scenarios", default="plain,tables")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--logs", help="with --verify: copy the verbose logs here")
    a = ap.parse_args()
    MESSAGES = a.messages
    top = tempfile.mkdtemp(prefix="moat-bench-", dir="/var/tmp")
    os.chmod(top, 0o755)
    try:
        if a.verify:
            verify(top, a.bindir, a.logs)
            return
        rows = []
        scenarios = a.scenarios.split(",")
        for shape, (scenario, keep, with_tables) in SHAPES.items():
            if scenario not in scenarios:
                continue
            for name, make in makers(top, a.bindir):
                r = run_one(make, keep, with_tables)
                r.update(mta=name, shape=shape)
                rows.append(r)
                print("  ", end="")
                print_row(r)
        print()
        print(f"{'shape':14} {'MTA':8} {'msg/s':>8} {'CPU ms/msg':>11} {'peak PSS MB':>12}")
        for r in rows:
            print_row(r)
        print_ratios(rows)
        print_disk(a.probe, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
