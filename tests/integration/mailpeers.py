"""Real peers for end-to-end tests: an SMTP next hop that records what it
receives (aiosmtpd), Postfix's smtp-sink, and a dnsmasq DNS server, each on a
free loopback port and each stopped by its own handle; and a network
namespace joined to the host by a veth pair (Netns), for next hops that must
not be on loopback (moat's smtp refuses loopback addresses from DNS).
"""
import asyncio
import ctypes
import ipaddress
import itertools
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from conftest import free_port


class Received:
    def __init__(self, envelope, peer, session=None):
        self.mail_from = envelope.mail_from
        self.mail_options = list(envelope.mail_options)
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.content = envelope.original_content or envelope.content
        self.peer = peer
        self.when = time.time()
        self.helo = session.host_name if session else None
        self.esmtp = session.extended_smtp if session else None
        # The negotiated (name, version, bits) after STARTTLS, else None.
        ssl_obj = (session.ssl or {}).get("ssl_object") if session else None
        self.tls = ssl_obj.cipher() if ssl_obj else None


class RecordingHandler:
    """Accepts every message unless a rule says otherwise.

    rcpt_rules: {address: (code, text)} answers RCPT TO for that address.
    data_rules: list of (code, text) answers for successive DATA commands
    (after the list is used up, DATA is accepted).
    """

    def __init__(self):
        self.messages = []
        self.rcpt_rules = {}
        self.data_rules = []
        self.lock = threading.Lock()
        self.connections = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        rule = self.rcpt_rules.get(address)
        if rule:
            return f"{rule[0]} {rule[1]}"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.data_rules:
                code, text = self.data_rules.pop(0)
                return f"{code} {text}"
            self.messages.append(Received(envelope, session.peer, session))
            n = len(self.messages)
        return f"250 2.0.0 Ok: queued as SINK{n}"


class _SocketController(Controller):
    """An aiosmtpd controller serving a listening socket made by the caller
    (one made inside a network namespace keeps listening there)."""

    def __init__(self, handler, sock, **kw):
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kw)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self._sock,
                                       ssl=self.ssl_context)


class RecordingSink:
    """An aiosmtpd server on 127.0.0.1:port recording every message (or on
    addr:port inside a Netns, when netns is given)."""

    def __init__(self, port=None, netns=None, addr=None, smtputf8=False, ident=None,
                 tls_context=None):
        self.handler = RecordingHandler()
        kw = {"data_size_limit": 64 * 1024 * 1024,
              "server_kwargs": {"decode_data": False, "enable_SMTPUTF8": smtputf8,
                                "ident": ident, "tls_context": tls_context}}
        if netns is None and addr is None:
            self.port = port or free_port()
            self.addr = "127.0.0.1"
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kw)
            return
        self.addr = addr or netns.peer_addr

        def listen():
            family = socket.AF_INET6 if ":" in self.addr else socket.AF_INET
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.addr, port or 0))
            s.listen(64)
            return s
        sock = netns.run(listen) if netns else listen()
        self.port = sock.getsockname()[1]
        self.controller = _SocketController(self.handler, sock, **kw)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def wait_count(self, n, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.messages) >= n:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"sink got {len(self.messages)} messages, expected {n}")


class SmtpSink:
    """Postfix's smtp-sink on 127.0.0.1:port; counts messages through -d dumps
    only when asked (dump_dir), else via its own exit."""

    def __init__(self, port=None, args=(), backlog=256, dump_dir=None):
        self.port = port or free_port()
        cmd = ["smtp-sink", "-u", "nobody", *args]
        if dump_dir:
            cmd += ["-d", os.path.join(dump_dir, "%M.")]
        cmd += [f"127.0.0.1:{self.port}", str(backlog)]
        self.cmd = cmd
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_port(self.port)
        return self

    def __exit__(self, *exc):
        stop_process(self.proc)


class Dnsmasq:
    """dnsmasq answering only from the records given, on 127.0.0.1:port.

    With log_queries, every question it gets is logged; queries() returns
    them as (type, name) pairs. Its log goes to an unlinked temporary file,
    so nothing is left behind and a chatty dnsmasq never blocks on a pipe.
    """

    def __init__(self, records, port=None, log_queries=False):
        self.fixed_port = port
        self.args = [*records] + (["--log-queries"] if log_queries else [])
        self.port = None
        self.proc = None
        self.err = None

    def __enter__(self):
        # A free port can be taken before dnsmasq binds it: try another one.
        for _ in range(3):
            self.port = self.fixed_port or free_port_udp()
            try:
                if self.start():
                    return self
            except AssertionError:
                self.stop()
                raise
            self.stop()
        raise AssertionError("dnsmasq found no free port")

    def start(self):
        """True once it answers; False if its port was taken; else fail."""
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            ["dnsmasq", "--no-daemon", "--keep-in-foreground", f"--port={self.port}",
             "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
             "--no-poll", "--user=nobody", "--pid-file=", "--log-facility=-", *self.args],
            stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.time() + 5
        while time.time() < deadline:
            if dns_answers(self.port):
                return True
            if self.proc.poll() is not None:
                if "in use" in self.log() and not self.fixed_port:
                    return False
                raise AssertionError("dnsmasq died: " + self.log())
            time.sleep(0.05)
        raise AssertionError("dnsmasq did not answer")

    def log(self):
        # pread: the file offset is shared with dnsmasq, which writes at it
        fd = self.err.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def queries(self):
        return re.findall(r"query\[(\w+)\] (\S+) from", self.log())

    def stop(self):
        stop_process(self.proc)
        self.err.close()

    def __exit__(self, *exc):
        self.stop()


_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000
_netns_seq = itertools.count()


class Netns:
    """A network namespace of our own, joined to the host by a veth pair:
    host side HOST_ADDR/30 (an address of this host), namespace side
    PEER_ADDR/30, and HOST_ADDR6/PEER_ADDR6 in a /64. run(fn) calls fn inside the namespace (sockets made there
    stay there). Removed, veth pair with it, on exit."""

    def __init__(self):
        n = next(_netns_seq)
        pid = os.getpid()
        self.name = f"moat-t{pid}-{n}"
        self.veth = f"mt{pid % 100000}x{n}"
        # a /30 in 10.200.0.0/13 picked from pid and sequence number
        k = (pid * 8 + n) % (1 << 17)
        base = ipaddress.IPv4Address("10.200.0.0") + (k << 2)
        self.host_addr = str(base + 1)
        self.peer_addr = str(base + 2)
        # and an IPv6 pair in fd00:5eed::/32 (unique local), same numbering
        self.host_addr6 = f"fd00:5eed:{k >> 16:x}:{k & 0xffff:x}::1"
        self.peer_addr6 = f"fd00:5eed:{k >> 16:x}:{k & 0xffff:x}::2"

    def __enter__(self):
        try:
            self._ip("netns", "add", self.name)
            self._ip("link", "add", self.veth + "h", "type", "veth", "peer", "name", self.veth + "p")
            self._ip("link", "set", self.veth + "p", "netns", self.name)
            self._ip("addr", "add", self.host_addr + "/30", "dev", self.veth + "h")
            self._ip("link", "set", self.veth + "h", "up")
            self._ip("-n", self.name, "addr", "add", self.peer_addr + "/30", "dev", self.veth + "p")
            self._ip("-n", self.name, "link", "set", self.veth + "p", "up")
            self._ip("-n", self.name, "link", "set", "lo", "up")
            self._ip("addr", "add", self.host_addr6 + "/64", "dev", self.veth + "h", "nodad")
            self._ip("-n", self.name, "addr", "add", self.peer_addr6 + "/64", "dev",
                     self.veth + "p", "nodad")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        # deleting the namespace deletes its veth end, and the peer with it
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        subprocess.run(["ip", "link", "del", self.veth + "h"], capture_output=True)

    @staticmethod
    def _ip(*args):
        r = subprocess.run(["ip", *args], capture_output=True, text=True)
        assert r.returncode == 0, f"ip {' '.join(args)}: {r.stderr}"

    def run(self, fn):
        here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        there = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(there, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns into " + self.name)
            try:
                return fn()
            finally:
                if _libc.setns(here, _CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(here)
            os.close(there)


def stop_process(proc):
    """SIGTERM, then SIGKILL if it is still there after 5 s; by its own handle."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dns_answers(port):
    """True once something answers a DNS query on 127.0.0.1:port."""
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04test\x00\x00\x01\x00\x01"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", port))
        s.recvfrom(512)
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_port(port, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")
