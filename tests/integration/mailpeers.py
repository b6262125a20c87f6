"""Real peers for end-to-end tests: an SMTP next hop that records what it
receives (aiosmtpd), Postfix's smtp-sink, and a dnsmasq DNS server, each on a
free loopback port and each stopped by its own handle.
"""
import asyncio
import os
import signal
import socket
import subprocess
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from conftest import free_port


class Received:
    def __init__(self, envelope, peer):
        self.mail_from = envelope.mail_from
        self.rcpt_tos = list(envelope.rcpt_tos)
        self.content = envelope.original_content or envelope.content
        self.peer = peer
        self.when = time.time()


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
            self.messages.append(Received(envelope, session.peer))
            n = len(self.messages)
        return f"250 2.0.0 Ok: queued as SINK{n}"


class RecordingSink:
    """An aiosmtpd server on 127.0.0.1:port recording every message."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     data_size_limit=64 * 1024 * 1024,
                                     server_kwargs={"decode_data": False})

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
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Dnsmasq:
    """dnsmasq answering only from the records given, on 127.0.0.1:port."""

    def __init__(self, records, port=None):
        self.port = port or free_port_udp()
        self.cmd = ["dnsmasq", "--no-daemon", "--keep-in-foreground", f"--port={self.port}",
                    "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
                    "--no-hosts", "--no-poll", "--user=nobody", "--pid-file=",
                    "--log-facility=-", *records]
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 5
        while time.time() < deadline:
            if dns_answers(self.port):
                return self
            if self.proc.poll() is not None:
                raise AssertionError("dnsmasq died: " + self.proc.stderr.read().decode())
            time.sleep(0.05)
        raise AssertionError("dnsmasq did not answer")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


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
