"""Hostile-client load test for moat (issue 7, part B). Run by hand or by
`make load`, never by `make test`: it measures, it asserts nothing.

One moat relaying to Postfix's smtp-sink on loopback. It measures:

 1. with 1,000 connections held open from 50 addresses (127.0.0.2..51, 20
    each; half idle after the banner, half trickling one byte every 2 s and
    never a line end): the time a client from 127.0.0.52 waits for its
    banner, whether its message is accepted, mail throughput (smtp-source:
    20 sessions, 2,000 messages of 5 KB, a new connection per message, from
    127.0.0.1, until the sink has counted every message) and its ratio to
    the unattacked rate measured just before the connections were opened,
    the CPU the screen process used meanwhile, and moat's total PSS (every
    moat process, smaps_rollup);
 2. the same with 10,000 held connections (200 per address).

The per-client connection limit is raised to 500 for the run (the default,
50, would refuse the 200 connections per address of step 2: that is the
limit doing its job). The script raises its own fd limit to the hard limit.

Usage: /usr/bin/python3 bench/load.py BINDIR [--held 1000,10000] [--messages 2000]
"""
import argparse
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import TICK, Sink, free_port, pss_kb, smtp_source, tree, wait_port  # noqa: E402

ADDRS = [f"127.0.0.{i}" for i in range(2, 52)]
FRESH = "127.0.0.52"


class Moat:
    def __init__(self, top, sink_port, bindir):
        self.dir = os.path.join(top, "moat")
        self.etc = os.path.join(self.dir, "etc")
        self.port = free_port()
        self.bindir = bindir
        os.makedirs(self.etc)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(f"""queue_directory = {self.dir}/queue
daemon_directory = {bindir}
maillog_file = {self.dir}/maillog
myhostname = load.localdomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
relay_domains = remote.test
relayhost = [127.0.0.1]:{sink_port}
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 500
""")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{self.port} inet n - y - 100 smtpd\n"
                    "cleanup unix n - y - 100 cleanup\nqmgr unix n - y 300 1 qmgr\n"
                    "smtp unix - - y - 100 smtp\nrelay unix - - y - 100 smtp\n"
                    "bounce unix - - y - 1 bounce\nlog unix - - y - 1 log\n")

    def start(self):
        self.proc = subprocess.Popen([f"{self.bindir}/moatd", "-c", self.etc, "-f"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(f"{self.dir}/stderr", "w"))
        wait_port(self.port)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


class Horde:
    """Connections held open: idle after the banner, or trickling a byte
    every two seconds (never a line end)."""

    def __init__(self, port):
        self.port = port
        self.socks = []
        self.trickle = []
        self.sel = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.closed = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def grow(self, total):
        """Open total connections, in batches whose banners are read."""
        batch = []
        for _ in range(total // len(ADDRS)):
            for a in ADDRS:
                batch.append(self._open(a))
                if len(batch) >= 200:
                    self._greeted(batch)
                    batch = []
        self._greeted(batch)

    def _open(self, addr):
        s = socket.socket()
        s.bind((addr, 0))
        s.settimeout(30)
        s.connect(("127.0.0.1", self.port))
        return s

    def _greeted(self, batch):
        for s in batch:
            banner = s.recv(512)
            if not banner.startswith(b"220 "):
                raise RuntimeError(f"held connection got {banner!r}")
            s.setblocking(False)
            self.socks.append(s)
            if len(self.socks) % 2 == 0:
                self.trickle.append(s)

    def _run(self):
        while not self.stop.wait(2.0):
            for s in list(self.trickle):
                try:
                    s.send(b"x")
                except OSError:
                    self.trickle.remove(s)
                    self.closed += 1

    def alive(self):
        """Connections the server has not closed."""
        n = 0
        for s in self.socks:
            try:
                n += s.recv(1, socket.MSG_PEEK) != b""
            except BlockingIOError:
                n += 1
            except OSError:
                pass
        return n

    def close(self):
        self.stop.set()
        for s in self.socks:
            s.close()


def fresh_client(port):
    """(seconds to the banner, final reply to the message) for a client from FRESH."""
    s = socket.socket()
    s.bind((FRESH, 0))
    s.settimeout(60)
    t0 = time.monotonic()
    s.connect(("127.0.0.1", port))
    f = s.makefile("rb")
    banner = f.readline()
    took = time.monotonic() - t0
    if not banner.startswith(b"220"):
        return took, banner.decode(errors="replace").strip()

    def cmd(line):
        s.sendall(line + b"\r\n")
        while True:
            r = f.readline()
            if r[3:4] != b"-":
                return r.decode(errors="replace").strip()

    replies = [cmd(b"EHLO fresh.example"), cmd(b"MAIL FROM:<fresh@sender.test>"),
               cmd(b"RCPT TO:<sink@remote.test>"), cmd(b"DATA")]
    s.sendall(b"Subject: fresh\r\n\r\nhello under attack\r\n.\r\n")
    final = f.readline().decode(errors="replace").strip()
    cmd(b"QUIT")
    s.close()
    ok = replies[0].startswith("250") and replies[3].startswith("354")
    return took, final if ok else " / ".join(replies)


def throughput(moat, sink, n):
    before = sink.count
    t0 = time.time()
    src = smtp_source(moat.port, n, False)
    ok = sink.wait(before + n, 600)
    rate = n / (time.time() - t0)
    return rate if ok and src.returncode == 0 else None


def screen_cpu(moat):
    """CPU seconds of the screen process so far."""
    for p in tree(moat.proc.pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if "(moat-screen)" in st:
            fields = st[st.rindex(")") + 2:].split()
            return (int(fields[11]) + int(fields[12])) / TICK
    return 0.0


def phase(moat, sink, held, n):
    base = throughput(moat, sink, n)
    horde = Horde(moat.port)
    horde.thread.start()
    try:
        t0 = time.time()
        horde.grow(held)
        opened = time.time() - t0
        banner, final = fresh_client(moat.port)
        cpu0, t0 = screen_cpu(moat), time.time()
        rate = throughput(moat, sink, n)
        cpu = (screen_cpu(moat) - cpu0) / (time.time() - t0)
        pss = pss_kb(moat.proc.pid) / 1024.0
        alive = horde.alive()
    finally:
        horde.close()
    print(f"{held} held: {alive} still open at the end (opened in {opened:.1f} s; half trickling)")
    print(f"  fresh client from {FRESH}: banner after {banner * 1000:.0f} ms, message: {final}")
    if rate and base:
        print(f"  throughput {rate:.0f} msg/s attacked, {base:.0f} just before: ratio {rate / base:.2f}; "
              f"screen used {cpu * 100:.0f}% of a CPU meanwhile")
    else:
        print("  throughput: INVALID (the sink did not count every message)")
    print(f"  moat total PSS {pss:.1f} MB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--held", default="1000,10000")
    ap.add_argument("--messages", type=int, default=2000)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    top = tempfile.mkdtemp(prefix="moat-load-", dir="/var/tmp")
    os.chmod(top, 0o755)
    sink = Sink()
    moat = Moat(top, sink.port, a.bindir)
    moat.start()
    try:
        smtp_source(moat.port, 100, False)      # warm up: processes started, files spare
        sink.wait(100, 60)
        print(f"unattacked: moat total PSS {pss_kb(moat.proc.pid) / 1024.0:.1f} MB", flush=True)
        for held in (int(x) for x in a.held.split(",") if int(x) > 0):
            phase(moat, sink, held, a.messages)
    finally:
        moat.stop()
        sink.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
