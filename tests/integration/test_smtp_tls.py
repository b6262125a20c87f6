"""The smtp client's STARTTLS (smtp_tls_security_level and its parameters)
against real peers: an aiosmtpd next hop with STARTTLS (Python ssl, with a
CA and a server certificate made by `openssl req` here), and one without.
Each level, each downgrade (no STARTTLS, failed handshake, untrusted or
misnamed certificate) and what it does to the mail: delivered over TLS,
delivered in cleartext, or deferred with nothing delivered."""
import hashlib
import os
import re
import ssl
import subprocess

import pytest

from mailpeers import RecordingSink
from relayenv import send
from test_lookup import start_fails
from test_smtp import BODY, LINE, start

SERVER_NAME = "mx.tls.test"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A test CA and a server certificate for mx.tls.test signed by it; and a
    second CA that signed nothing moat sees."""
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "otherca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN=moat test {ca}", "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
                cwd=d)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={SERVER_NAME}",
            "-keyout", "server.key", "-out", "server.csr", cwd=d)
    (d / "ext").write_text(f"subjectAltName=DNS:{SERVER_NAME}\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", "server.pem", cwd=d)
    os.mkdir(d / "capath")
    (d / "capath" / "only-ca.pem").write_bytes((d / "ca.pem").read_bytes())
    for f in os.listdir(d):
        os.chmod(d / f, 0o755 if (d / f).is_dir() else 0o644)
    os.chmod(d, 0o755)
    return d


def server_ctx(pki, maxver=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "server.pem", pki / "server.key")
    if maxver:
        ctx.maximum_version = maxver
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def relay(moat_factory, sink, conf):
    return start(moat_factory, f"relayhost = [127.0.0.1]:{sink.port}\n" + conf)


def deferred(m, qid, reason):
    m.wait_log(LINE.format(qid=qid, rcpt=r"b@remote\.test", relay=".*", dsn=r"4\.7\.[0-9]",
                           status="deferred").replace(r"\(.*\)", r"\(" + reason + r"\)"))


def test_may_delivers_over_tls_and_logs_postfix_summary(moat_factory, pki):
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = may\nsmtp_tls_loglevel = 1\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
    assert msg.tls and msg.tls[1] == "TLSv1.3", msg.tls
    assert msg.esmtp and msg.rcpt_tos == ["b@remote.test"]
    assert re.search(r"Untrusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                     rf"{sink.port}: TLSv1\.3 with cipher TLS_\w+ \(\d+/\d+ bits\) "
                     r"key-exchange \w+ server-signature RSA-PSS \(2048 bits\) "
                     r"server-digest SHA256", m.log()), m.log()


def test_loglevel_0_logs_no_summary(moat_factory, pki):
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, "smtp_use_tls = yes\n")
        qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
        m.wait_log(rf"{qid}: removed")
    assert msg.tls, "smtp_use_tls = yes is level may"
    assert "TLS connection established" not in m.log()


def test_may_without_starttls_sends_in_cleartext(moat_factory):
    with RecordingSink() as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = may\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
    assert msg.tls is None


@pytest.mark.parametrize("conf", ["smtp_tls_security_level = encrypt\n",
                                  "smtp_enforce_tls = yes\nsmtp_tls_enforce_peername = no\n"])
def test_encrypt_without_starttls_defers_and_sends_nothing(moat_factory, conf):
    """The downgrade: a next hop (or a man in the middle) strips STARTTLS.
    Seen before: level encrypt stopped start-up (moat had no TLS)."""
    with RecordingSink() as sink:
        m = relay(moat_factory, sink, conf)
        qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
        deferred(m, qid, r"TLS is required, but was not offered by host "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]")
        assert sink.messages == []


def test_none_never_starts_tls_and_notes_the_offer(moat_factory, pki):
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, "smtp_tls_note_starttls_offer = yes\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
        m.wait_log(r"Host offered STARTTLS: \[127\.0\.0\.1\]")
    assert msg.tls is None


def test_may_falls_back_to_plaintext_when_the_handshake_fails(moat_factory, pki):
    """The server speaks TLS 1.2 at most; smtp_tls_protocols asks for 1.3."""
    with RecordingSink(tls_context=server_ctx(pki, ssl.TLSVersion.TLSv1_2)) as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = may\n"
                                      "smtp_tls_protocols = TLSv1.3\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
        m.wait_log(rf"SSL_connect error to 127\.0\.0\.1\[127\.0\.0\.1\]:{sink.port}: ")
    assert msg.tls is None


def test_encrypt_handshake_failure_defers(moat_factory, pki):
    """smtp_tls_mandatory_protocols applies at encrypt (smtp_tls_protocols
    would allow TLS 1.2)."""
    with RecordingSink(tls_context=server_ctx(pki, ssl.TLSVersion.TLSv1_2)) as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = encrypt\n"
                                      "smtp_tls_mandatory_protocols = >=TLSv1.3\n")
        qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
        deferred(m, qid, "Cannot start TLS: handshake failure")
        assert sink.messages == []


def test_protocols_and_excluded_ciphers_choose_the_cipher(moat_factory, pki):
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = encrypt\n"
                                      "smtp_tls_mandatory_protocols = <=TLSv1.2\n"
                                      "smtp_tls_exclude_ciphers = AESGCM\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
    assert msg.tls[1] == "TLSv1.2" and "CHACHA20" in msg.tls[0], msg.tls


@pytest.mark.parametrize("grade,over_tls", [("medium", False), ("low", True)])
def test_cipher_grade(moat_factory, pki, grade, over_tls):
    """A server with only a CBC suite with a SHA-1 MAC: moat's medium grade
    refuses it (may: plaintext), low accepts it."""
    ctx = server_ctx(pki, ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-AES128-SHA")
    with RecordingSink(tls_context=ctx) as sink:
        m = relay(moat_factory, sink, f"smtp_tls_security_level = may\nsmtp_tls_ciphers = {grade}\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
    assert (msg.tls is not None) == over_tls, msg.tls
    if over_tls:
        assert msg.tls[0] == "ECDHE-RSA-AES128-SHA"


@pytest.mark.parametrize("grade,delivered", [("medium", False), ("low", True)])
def test_mandatory_cipher_grade(moat_factory, pki, grade, delivered):
    """At encrypt the grade is smtp_tls_mandatory_ciphers: medium refuses a
    SHA-1 CBC-only server (deferred, nothing sent), low takes it over TLS."""
    ctx = server_ctx(pki, ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-AES128-SHA")
    with RecordingSink(tls_context=ctx) as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = encrypt\n"
                                      f"smtp_tls_mandatory_ciphers = {grade}\n"
                                      "smtp_tls_ciphers = low\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        if delivered:
            (msg,) = sink.wait_count(1)
            assert msg.tls[0] == "ECDHE-RSA-AES128-SHA", msg.tls
        else:
            m.wait_log(r"to=<b@remote\.test>.*status=deferred")
            assert sink.messages == []


def test_starttls_timeout(moat_factory, pki):
    """A server that answers STARTTLS and then says nothing: the handshake
    ends at smtp_starttls_timeout, not at a later step's limit."""
    import socket
    import threading
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    port = lst.getsockname()[1]
    held = []

    def serve():
        while True:
            try:
                c, _ = lst.accept()
            except OSError:
                return
            held.append(c)
            c.sendall(b"220 mute ESMTP\r\n")
            f = c.makefile("rb")
            for line in f:
                if line.upper().startswith(b"EHLO"):
                    c.sendall(b"250-mute\r\n250 STARTTLS\r\n")
                elif line.upper().startswith(b"STARTTLS"):
                    c.sendall(b"220 go ahead\r\n")
                    break
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        m = start(moat_factory, f"relayhost = [127.0.0.1]:{port}\n"
                                "smtp_tls_security_level = encrypt\n"
                                "smtp_starttls_timeout = 2s\nsmtp_helo_timeout = 300s\n")
        qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
        m.wait_log(r"SSL_connect error to .*: timed out", timeout=60)
        deferred(m, qid, "Cannot start TLS: handshake failure")
    finally:
        lst.close()
        for c in held:
            c.close()


# --- verify, secure, fingerprint: who the server is -------------------------

def sni_ctx(pki, names):
    """A server context that records the SNI each client sent (None: none)."""
    ctx = server_ctx(pki)
    ctx.sni_callback = lambda sock, name, c: names.append(name)
    return ctx


def cert_digest(pki, algo, pubkey=False):
    pem = (pki / "server.pem").read_text()
    der = ssl.PEM_cert_to_DER_cert(pem)
    if pubkey:
        der = subprocess.run(["openssl", "x509", "-in", pki / "server.pem", "-noout", "-pubkey"],
                             check=True, capture_output=True).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=der,
                             check=True, capture_output=True).stdout
    h = hashlib.new(algo, der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


@pytest.mark.parametrize("conf", [
    "smtp_tls_security_level = verify\nsmtp_tls_verify_cert_match = mx.tls.test\n"
    "smtp_tls_CAfile = {pki}/ca.pem\n",
    "smtp_tls_security_level = verify\nsmtp_tls_verify_cert_match = nomatch.test, .tls.test\n"
    "smtp_tls_CApath = {pki}/capath\n",
    "smtp_tls_security_level = secure\nsmtp_tls_secure_cert_match = mx.tls.test\n"
    "smtp_tls_CAfile = {pki}/ca.pem\n",
    "smtp_enforce_tls = yes\nsmtp_tls_verify_cert_match = mx.tls.test\n"
    "smtp_tls_CAfile = {pki}/ca.pem\n",
], ids=["verify-cafile", "verify-capath-dot", "secure", "enforce-tls-is-verify"])
def test_verified_server_gets_the_mail(moat_factory, pki, conf):
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, conf.format(pki=pki) + "smtp_tls_loglevel = 1\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
        m.wait_log(r"Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]")
    assert msg.tls


@pytest.mark.parametrize("conf,reason", [
    ("smtp_tls_security_level = verify\nsmtp_tls_verify_cert_match = other.tls.test\n"
     "smtp_tls_CAfile = {pki}/ca.pem\n", "Server certificate not verified"),
    ("smtp_tls_security_level = verify\nsmtp_tls_verify_cert_match = mx.tls.test\n"
     "smtp_tls_CAfile = {pki}/otherca.pem\n", "Server certificate not trusted"),
    ("smtp_tls_security_level = verify\nsmtp_tls_verify_cert_match = mx.tls.test\n",
     "Server certificate not trusted"),
    # secure's default match is the next hop (here 127.0.0.1), not the MX name
    ("smtp_tls_security_level = secure\nsmtp_tls_CAfile = {pki}/ca.pem\n",
     "Server certificate not verified"),
    ("smtp_enforce_tls = yes\nsmtp_tls_verify_cert_match = mx.tls.test\n",
     "Server certificate not trusted"),
    ("smtp_tls_security_level = fingerprint\n"
     "smtp_tls_fingerprint_cert_match = 00:11:22:33\n", "Server certificate not verified"),
], ids=["wrong-name", "other-ca", "no-ca", "secure-default-match", "enforce-tls", "fingerprint"])
def test_downgrade_unverified_server_defers_and_gets_nothing(moat_factory, pki, conf, reason):
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, conf.format(pki=pki))
        qid = send(m, "a@sender.test", ["b@remote.test"], BODY)
        deferred(m, qid, reason)
        assert sink.messages == []


@pytest.mark.parametrize("digest,pubkey", [("sha256", False), ("sha256", True),
                                           ("sha1", False)])
def test_fingerprint_level(moat_factory, pki, digest, pubkey):
    fp = cert_digest(pki, digest, pubkey)
    if pubkey:
        fp = fp.replace(":", "").lower()    # Postfix accepts either spelling
    conf = ("smtp_tls_security_level = fingerprint\nsmtp_tls_loglevel = 1\n"
            f"smtp_tls_fingerprint_cert_match = 00:11, {fp}\n")
    if digest != "sha256":
        conf += f"smtp_tls_fingerprint_digest = {digest}\n"
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, conf)
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        (msg,) = sink.wait_count(1)
        m.wait_log(r"Verified TLS connection established to")
    assert msg.tls


def test_trusted_at_may_with_a_ca(moat_factory, pki):
    with RecordingSink(tls_context=server_ctx(pki)) as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = may\nsmtp_tls_loglevel = 1\n"
                                      f"smtp_tls_CAfile = {pki}/ca.pem\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        sink.wait_count(1)
        m.wait_log(r"Trusted TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]")


@pytest.mark.parametrize("servername,sent", [("", None), ("mx.tls.test", "mx.tls.test"),
                                             ("nexthop", None)])
def test_servername(moat_factory, pki, servername, sent):
    """SNI: none by default; a name as given; the next hop's name, never an
    address literal (here the next hop is [127.0.0.1])."""
    names = []
    with RecordingSink(tls_context=sni_ctx(pki, names)) as sink:
        m = relay(moat_factory, sink, "smtp_tls_security_level = encrypt\n"
                                      f"smtp_tls_servername = {servername}\n")
        send(m, "a@sender.test", ["b@remote.test"], BODY)
        sink.wait_count(1)
    assert names == [sent]


@pytest.mark.parametrize("setting,why", [
    ("smtp_tls_protocols = >=TLSv9", r"smtp_tls_protocols: "),
    ("smtp_tls_exclude_ciphers = a:b", r"smtp_tls_exclude_ciphers: bad cipher exclusion"),
    ("smtp_tls_CAfile = /nonexistent/ca.pem", r"smtp_tls_CAfile: cannot load CA certificates"),
    ("smtp_tls_CApath = /nonexistent-ca-dir", r"smtp_tls_CApath: No such file or directory"),
])
def test_tls_settings_openssl_refuses_stop_start_up_with_file_and_line(moat_factory, setting, why):
    """What only OpenSSL can judge is judged before any stage starts: moatd
    runs the smtp program once in check mode (moatd links no OpenSSL) and
    refuses with the main.cf line."""
    m = moat_factory(main_cf_extra="smtp_tls_security_level = may\n" + setting + "\n")
    err = start_fails(m)
    assert re.search(r"main\.cf:\d+: " + why, err), err
