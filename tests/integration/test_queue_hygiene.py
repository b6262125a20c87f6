"""Queue hygiene: files kept in spare/ for reuse hold no delivered byte and
never cost a message its place on a full disk. Real moatd, real next hop
(aiosmtpd); the full-disk case runs moatd in a private mount namespace with
its queue on a small tmpfs, so the free space is exact."""
import os
import smtplib
import subprocess

from conftest import MoatInstance
from mailpeers import RecordingSink
from relayenv import FAST_RETRY, relay_main_cf, send, send_batch

CANARY = b"hygiene-canary-7Q2"


def body(size=0):
    text = b"Subject: delivered " + CANARY + b"\r\n\r\n" + CANARY + b"\r\n"
    line = b"x" * 76 + b"\r\n"
    return text + line * (size // len(line))


def spare_files(root):
    d = os.path.join(root, "spare")
    return [os.path.join(d, f) for f in os.listdir(d)]


def test_spare_holds_no_delivered_bytes(moat_factory):
    """Seen: `strings` on a spare file showed the delivered subject."""
    with RecordingSink() as sink:
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)).start()
        ids = send_batch(m, 5, ["b@dst.example"], body(3000))
        for qid in ids:
            m.wait_log(rf"{qid}: removed")
        assert len(sink.messages) == 5
        files = spare_files(m.queue)
        assert len(files) == 5
        for f in files:
            with open(f, "rb") as fh:
                data = fh.read()
            assert len(data) > 3000
            assert CANARY not in data and b"a@src.example" not in data, f


class TmpfsMoat(MoatInstance):
    """moatd in its own mount namespace, its queue on a tmpfs of `size`.
    The test sees the queue through /proc/<moatd>/root."""

    size = "8m"

    def start(self, wait=True):
        self.stderr = open(os.path.join(self.dir, "stderr"), "w")
        script = (f"mkdir -p {self.queue} && mount -t tmpfs -o size={self.size},mode=0755 "
                  f"tmpfs {self.queue} && exec {self.build}/bin/moatd -c {self.confdir} -f")
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr, env=self.env)
        if wait:
            self.wait_ready()
        return self

    def ctl(self, *args, check=True):
        r = subprocess.run(["nsenter", "-t", str(self.proc.pid), "-m",
                            f"{self.build}/bin/moatctl", "-c", self.confdir, *args],
                           capture_output=True, text=True, timeout=60)
        if check:
            assert r.returncode == 0, r.stdout + r.stderr
        return r

    @property
    def root(self):
        return f"/proc/{self.proc.pid}/root{self.queue}"


def test_full_disk_spare_never_refuses_mail(moat_factory):
    """Seen: after a full disk and a drained queue, 196 spare files (19.6 MB)
    kept every new message at 452, across restarts. Here 16 delivered files of
    200 KB wait in spare/ (3.2 MB) on an 8 MB queue file system; something else
    then fills it to 1 MB free, under the 1.5 MB reserve: the next message must
    be taken (spare/ given back), not refused."""
    with RecordingSink() as sink:
        m = moat_factory(cls=TmpfsMoat, main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)
                       + "message_size_limit = 1000000\n").start()
        ids = send_batch(m, 16, ["b@dst.example"], body(200000))
        for qid in ids:
            m.wait_log(rf"{qid}: removed", timeout=60)
        assert len(spare_files(m.root)) == 16
        st = os.statvfs(m.root)
        free = st.f_bavail * st.f_frsize
        with open(os.path.join(m.root, "filler"), "wb") as f:
            f.write(b"\0" * (free - 1000000))
        st = os.statvfs(m.root)
        assert st.f_bavail * st.f_frsize < 1500000
        qid = send(m, "a@src.example", ["b@dst.example"], body())
        m.wait_log(r"warning: queue file system short of space: removed 16 spare files")
        m.wait_log(rf"{qid}: removed")
        assert len(sink.messages) == 17
        # the reserve itself still holds once spare/ is gone
        with open(os.path.join(m.root, "filler"), "ab") as f:
            st = os.statvfs(m.root)
            f.write(b"\0" * (st.f_bavail * st.f_frsize - 500000))
        with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
            s.ehlo("client.test.example")
            codes = [s.mail("a@src.example"), s.rcpt("b@dst.example")]
        assert (452, b"4.3.1 Insufficient system storage") in codes, codes
