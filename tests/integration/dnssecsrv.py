"""A small DNS server for the DANE tests: it answers from a table of records,
over UDP and TCP on 127.0.0.1, and sets the AD bit on the answers for the
names it is told are signed, as a validating resolver on this host would.
dnsmasq cannot do that for its own records, and no DNSSEC signing is needed
to test what moat does with the bit: moat trusts the resolver's AD bit, as
Postfix does (docs/dane.md).

records: {(name, type): [rdata bytes, ...]} (type: "A", "MX", "TLSA", ...);
secure: names whose answers (positive or NODATA/NXDOMAIN) carry AD;
servfail: names answered with SERVFAIL. Every question is recorded in
queries as (type, name), and whether it asked for AD/DO in flags.
"""
import select
import socket
import struct
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28, "TLSA": 52}
NAMES = {v: k for k, v in TYPES.items()}


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rdata_a(addr):
    return socket.inet_aton(addr)


def rdata_mx(pref, host):
    return struct.pack("!H", pref) + wire_name(host)


def rdata_tlsa(usage, selector, mtype, data):
    return bytes([usage, selector, mtype]) + data


def read_name(p, off):
    labels = []
    while p[off]:
        n = p[off]
        labels.append(p[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels), off + 1


class DnssecServer:
    def __init__(self, records, secure=(), servfail=()):
        self.records = {(n.lower().rstrip("."), t): v for (n, t), v in records.items()}
        self.secure = {n.lower().rstrip(".") for n in secure}
        self.servfail = {n.lower().rstrip(".") for n in servfail}
        self.queries = []
        self.flags = []
        self.lock = threading.Lock()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.stop_r, self.stop_w = socket.socketpair()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_w.send(b"x")
        self.thread.join(10)
        for s in (self.udp, self.tcp, self.stop_r, self.stop_w):
            s.close()

    def answer(self, q, limit=None):
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        name, off = read_name(q, 12)
        qtype = struct.unpack("!H", q[off:off + 2])[0]
        question = q[12:off + 4]
        do_bit = b"\x00\x00\x29" in q[off + 4:] and len(q) >= off + 4 + 11 \
            and q[off + 4 + 7] & 0x80
        key = name.lower()
        with self.lock:
            self.queries.append((NAMES.get(qtype, str(qtype)), key))
            self.flags.append((bool(flags & 0x20), bool(do_bit)))
        rcode, answers = 0, []
        if key in self.servfail:
            rcode = 2
        else:
            answers = self.records.get((key, NAMES.get(qtype)), [])
            if not answers and not any(n == key for n, _ in self.records):
                rcode = 3
        ad = rcode != 2 and key in self.secure and (flags & 0x20 or do_bit)
        rflags = 0x8000 | (flags & 0x0100) | 0x0080 | (0x20 if ad else 0) | rcode
        out = struct.pack("!HHHHHH", qid, rflags, 1, len(answers), 0, 0) + question
        for rd in answers:
            out += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rd)) + rd
        if limit and len(out) > limit:     # TC: the client asks again over TCP
            out = struct.pack("!HHHHHH", qid, rflags | 0x0200, 1, 0, 0, 0) + question
        return out

    def serve(self):
        while True:
            r, _, _ = select.select([self.udp, self.tcp, self.stop_r], [], [])
            if self.stop_r in r:
                return
            if self.udp in r:
                q, peer = self.udp.recvfrom(4096)
                self.udp.sendto(self.answer(q, 512), peer)
            if self.tcp in r:
                c, _ = self.tcp.accept()
                c.settimeout(5)
                try:
                    n = struct.unpack("!H", c.recv(2))[0]
                    q = b""
                    while len(q) < n:
                        q += c.recv(n - len(q))
                    a = self.answer(q)
                    c.sendall(struct.pack("!H", len(a)) + a)
                except OSError:
                    pass
                finally:
                    c.close()
