"""Postfix's own smtp client as a TLS sender (issue 9): a private Postfix
instance (bench/bench.py's, on loopback ports, never the system's) relays
to moat with STARTTLS required and moat's CA trusted; moat takes the mail
over TLS and hands it on. Postfix logs the session as Trusted, moat's
Received header says ESMTPS."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from test_smtpd_certs import issue

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import bench  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("postfix") is None, reason="Debian's postfix is not installed")


def postfix_sender(top, moat_port, extra):
    """A private Postfix whose relayhost is moat, with extra main.cf lines."""
    pf = bench.Postfix(top, moat_port)
    with open(os.path.join(pf.etc, "main.cf"), "a") as f:
        f.write(extra)
    with open(os.path.join(pf.etc, "master.cf"), "a") as f:
        f.write("tlsmgr unix - - n 1000? 1 tlsmgr\n")     # Postfix's TLS needs it
    return pf


def wait_for(path, pattern, timeout=60):
    deadline = time.time() + timeout
    text = ""
    while time.time() < deadline:
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError:
            pass
        m = re.search(pattern, text)
        if m:
            return m
        time.sleep(0.2)
    raise AssertionError(f"{path} never matched {pattern!r}:\n{text[-3000:]}")


@pytest.mark.parametrize("level", ["encrypt", "verify"])
def test_postfix_smtp_client_sends_to_moat_over_tls(moat_factory, sink, tmp_path, level):
    d = str(tmp_path / "pki")
    os.makedirs(d, mode=0o700)
    root = issue(d, "root", "rsa")
    key, crt = issue(d, "mx", "ec", ca=root, cn="mx.test.example")
    m = moat_factory(main_cf_extra="mynetworks = 127.0.0.0/8\n"
                     f"relayhost = [127.0.0.1]:{sink.port}\nsmtpd_tls_security_level = may\n"
                     f"smtpd_tls_cert_file = {crt}\nsmtpd_tls_key_file = {key}\n"
                     "smtpd_tls_loglevel = 1\n")
    m.start()
    top = tempfile.mkdtemp(prefix="moat-pf-")
    os.chmod(top, 0o755)    # Postfix's own users must reach its data and queue
    pf = postfix_sender(top, m.port, f"smtp_tls_security_level = {level}\n"
                        f"smtp_tls_CAfile = {root[1]}\nsmtp_tls_loglevel = 1\n"
                        # the next hop is [127.0.0.1]: verify matches the name the
                        # certificate has, as an administrator would set it
                        "smtp_tls_verify_cert_match = mx.test.example\n")
    try:
        pf.start()
        subprocess.run([shutil.which("sendmail") or "/usr/sbin/sendmail", "-C", pf.etc, "-f",
                        "a@sender.test", "b@remote.test"],
                       input=b"Subject: via postfix\r\n\r\nover TLS\r\n", check=True, timeout=60)
        log = os.path.join(pf.dir, "maillog")
        try:
            (msg,) = sink.wait_count(1, timeout=90)
        except AssertionError:
            raise AssertionError(open(log).read()[-3000:] + m.log()[-2000:])
        log = os.path.join(pf.dir, "maillog")
        wait_for(log, r"postfix/smtp\[\d+\]: (Trusted|Verified) TLS connection established to "
                      rf"127\.0\.0\.1\[127\.0\.0\.1\]:{m.port}: TLSv1\.3 with cipher")
        wait_for(log, r"to=<b@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*status=sent")
    finally:
        pf.stop()
        shutil.rmtree(top, ignore_errors=True)
    assert msg.rcpt_tos == ["b@remote.test"]
    assert re.search(rb"from bench\.localdomain \(unknown \[127\.0\.0\.1\]\)\r?\n?\s*by "
                     rb"mx\.test\.example \(moat\) with ESMTPS id ", msg.content), msg.content[:800]
    m.wait_log(r"moat/smtpd\[\d+\]: Anonymous TLS connection established from "
               r"unknown\[127\.0\.0\.1\]: TLSv1\.3 with cipher .* server-signature ECDSA")
