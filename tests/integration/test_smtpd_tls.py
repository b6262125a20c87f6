"""smtpd STARTTLS (issue 9): real TLS clients (Python ssl, openssl s_client,
swaks) hand mail to moat over TLS; the private key stays in the tlskey
stage (smtpd holds a key object whose signatures the stage makes); the
plaintext a client pipelines after STARTTLS is never executed."""
import contextlib
import os
import re
import smtplib
import socket
import ssl
import subprocess

import pytest

from relayenv import send
from test_smtp import BODY, start
from test_tlskey import make_keys, private_exponent, readable_memory, run, OPENSSL


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def tls_moat(moat_factory, sink, conf="smtpd_tls_security_level = may\n", key="rsa"):
    """moat relaying to sink, with a certificate and its key in separate files."""
    m = moat_factory(main_cf_extra="mynetworks = 127.0.0.0/8\n"
                     f"relayhost = [127.0.0.1]:{sink.port}\n" + conf)
    keys = make_keys(os.path.join(m.dir, "keys"))
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"smtpd_tls_cert_file = {keys[key + '_crt']}\n"
                f"smtpd_tls_key_file = {keys[key + '_key']}\n")
    m.start()
    return m, keys


def starttls_send(m, ctx=None):
    """One message over STARTTLS with Python's smtplib; the queue id."""
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
        s.ehlo("client.test.example")
        assert s.has_extn("starttls"), s.esmtp_features
        code, msg = s.starttls(context=ctx or client_ctx())
        assert code == 220 and msg == b"2.0.0 Ready to start TLS", (code, msg)
        s.ehlo("client.test.example")
        assert not s.has_extn("starttls"), "STARTTLS offered again inside TLS"
        s.mail("a@sender.test")
        assert s.rcpt("b@remote.test")[0] == 250
        code, msg = s.data(BODY)
        assert code == 250, (code, msg)
        return re.search(rb"queued as (\S+)", msg).group(1).decode()


def test_smtplib_starttls_delivers_with_esmtps_and_logs_summary(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = may\n"
                    "smtpd_tls_loglevel = 1\n")
    qid = starttls_send(m)
    (msg,) = sink.wait_count(1)
    assert msg.rcpt_tos == ["b@remote.test"]
    received = msg.content.split(b"\r\n\r\n")[0]
    assert re.search(rb"by mx\.test\.example \(moat\) with ESMTPS id " + qid.encode(), received), \
        received
    m.wait_log(r"moat/smtpd\[\d+\]: Anonymous TLS connection established from "
               r"unknown\[127\.0\.0\.1\]: TLSv1\.3 with cipher TLS_\w+ \(\d+/\d+ bits\) "
               r"key-exchange \w+ server-signature RSA-PSS \(2048 bits\) server-digest SHA256\n")
    m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=2 starttls=1 mail=1 rcpt=1 "
               r"data=1 quit=1 commands=7")


def test_ec_certificate_and_tls12(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = may\n"
                    "smtpd_tls_loglevel = 1\n", key="ec")
    ctx = client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    starttls_send(m, ctx)
    sink.wait_count(1)
    m.wait_log(r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
               r"TLSv1\.2 with cipher ECDHE-ECDSA-\S+ \(\d+/\d+ bits\) key-exchange \w+ "
               r"server-signature ECDSA \(256 bits\) server-digest SHA256\n")


def test_loglevel_0_and_plain_sessions(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink)
    starttls_send(m)
    send(m, "a@sender.test", ["b@remote.test"], BODY)   # no STARTTLS: still accepted
    first, second = sink.wait_count(2)
    assert b" with ESMTPS id " in first.content and b" with ESMTP id " in second.content
    assert "TLS connection established" not in m.log()


def test_level_none_offers_no_starttls(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = none\n")
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
        s.ehlo("client.test.example")
        assert not s.has_extn("starttls")
        assert s.docmd("STARTTLS")[0] == 502


def test_smtpd_use_tls_means_may(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_use_tls = yes\n")
    starttls_send(m)
    sink.wait_count(1)


def test_openssl_s_client_starttls(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink)
    p = subprocess.Popen([OPENSSL, "s_client", "-starttls", "smtp", "-connect",
                          f"127.0.0.1:{m.port}", "-quiet", "-nocommands", "-crlf"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    try:
        def say(line, expect):
            if line is not None:
                p.stdin.write(line.encode() + b"\n")
                p.stdin.flush()
            while True:
                got = p.stdout.readline().decode()
                assert got, f"s_client ended waiting for {expect}"
                if re.match(expect + " ", got):
                    return got
        say("EHLO client.test.example", "250")
        say("MAIL FROM:<a@sender.test>", "250")
        say("RCPT TO:<b@remote.test>", "250")
        say("DATA", "354")
        say("Subject: s_client\n\nover TLS\n.", "250")
        say("QUIT", "221")
    finally:
        p.stdin.close()
        p.wait(timeout=30)
        p.stdout.close()
    (msg,) = sink.wait_count(1)
    assert b"over TLS" in msg.content and b" with ESMTPS id " in msg.content


def test_swaks_tls(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink)
    out = subprocess.run(["swaks", "--tls", "--server", "127.0.0.1", "--port", str(m.port),
                          "--from", "a@sender.test", "--to", "b@remote.test",
                          "--helo", "client.test.example", "--body", "via swaks"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "TLS started" in out.stdout, out.stdout
    (msg,) = sink.wait_count(1)
    assert b"via swaks" in msg.content and b" with ESMTPS id " in msg.content


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        assert line, lines
        lines.append(line)
        if line[3:4] == b" ":
            return lines


def test_pipelined_plaintext_after_starttls_is_discarded(moat_factory, sink):
    """CVE-2011-0411: "STARTTLS\\r\\nRSET\\r\\n" in one write; the RSET must
    not be answered inside TLS. The envelope given before STARTTLS is gone."""
    m, _ = tls_moat(moat_factory, sink)
    with socket.create_connection(("127.0.0.1", m.port), timeout=30) as raw:
        f = raw.makefile("rb", buffering=0)
        assert read_reply(f)[0].startswith(b"220 ")
        raw.sendall(b"EHLO client.test.example\r\n")
        assert b"250-STARTTLS\r\n" in read_reply(f)
        raw.sendall(b"MAIL FROM:<a@sender.test>\r\n")
        assert read_reply(f)[0].startswith(b"250 ")
        raw.sendall(b"STARTTLS\r\nRSET\r\n")
        assert read_reply(f) == [b"220 2.0.0 Ready to start TLS\r\n"]
        with client_ctx().wrap_socket(raw) as t:
            tf = t.makefile("rb", buffering=0)
            t.sendall(b"RCPT TO:<b@remote.test>\r\n")
            first = read_reply(tf)
            assert first == [b"503 5.5.1 Error: need MAIL command\r\n"], first
            t.sendall(b"EHLO client.test.example\r\n")
            ehlo = read_reply(tf)
            assert ehlo[0] == b"250-mx.test.example\r\n", ehlo
            t.sendall(b"QUIT\r\n")
            assert read_reply(tf)[0].startswith(b"221 ")
    m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=2 starttls=1 mail=1 rcpt=0/1 "
               r"quit=1 commands=5/6")
    assert " rset=" not in m.log()


@contextlib.contextmanager
def raw_starttls(m):
    """A plain socket that said EHLO and STARTTLS and got the 220: (socket, reader)."""
    with socket.create_connection(("127.0.0.1", m.port), timeout=60) as raw:
        f = raw.makefile("rb", buffering=0)
        read_reply(f)
        raw.sendall(b"EHLO client.test.example\r\n")
        read_reply(f)
        raw.sendall(b"STARTTLS\r\n")
        assert read_reply(f) == [b"220 2.0.0 Ready to start TLS\r\n"]
        yield raw, f


def test_failed_handshake_ends_the_session(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink)
    with raw_starttls(m) as (raw, f):
        raw.sendall(b"this is not a TLS ClientHello\r\n")
        try:
            rest = f.read()     # an alert at most, then the end: no SMTP reply
        except ConnectionResetError:
            rest = b""          # closed with our junk unread
        assert b"250" not in rest and b"500" not in rest, rest
    m.wait_log(r"moat/smtpd\[\d+\]: SSL_accept error from unknown\[127\.0\.0\.1\]: ")
    m.wait_log(r"lost connection after STARTTLS from unknown\[127\.0\.0\.1\]")
    starttls_send(m)    # the next client is served as usual
    sink.wait_count(1)


@pytest.mark.parametrize("one_file", [False, "smtpd_tls_cert_file", "smtpd_tls_chain_files"])
def test_private_key_never_in_smtpd_or_smtp_memory(moat_factory, sink, one_file):
    """After real handshakes (RSA: PSS signatures made by the tlskey stage),
    no smtpd or smtp process holds the key in DER or PEM form, or its private
    exponent; the tlskey stage does. one_file: key and certificate in one
    file, named by smtpd_tls_cert_file (smtpd_tls_key_file's default) or
    smtpd_tls_chain_files, which smtpd reads for the certificate and must
    wipe unparsed."""
    if one_file:
        m = moat_factory(main_cf_extra="mynetworks = 127.0.0.0/8\n"
                         f"relayhost = [127.0.0.1]:{sink.port}\nsmtpd_tls_security_level = may\n")
        keys = make_keys(os.path.join(m.dir, "keys"))
        with open(os.path.join(m.confdir, "main.cf"), "a") as f:
            f.write(f"{one_file} = {keys['client_chain']}\n")
        keys["rsa_key"] = keys["client_chain"]     # the RSA key, with its certificate
        m.start()
    else:
        m, keys = tls_moat(moat_factory, sink)
    for _ in range(3):
        starttls_send(m)
    sink.wait_count(3)
    pem = open(keys["rsa_key"], "rb").read()
    der = run(OPENSSL, "pkey", "-in", keys["rsa_key"], "-outform", "DER")
    d = private_exponent(keys["rsa_key"])
    needles = [der[:64], der[-200:-100], d[:64], d[::-1][:64]]
    needles += [ln for ln in pem.splitlines() if ln and not ln.startswith(b"-----")][2:6]
    stages = m.stage_pids()
    assert "smtpd" in stages.values() and "smtp" in stages.values(), stages
    for pid, stage in stages.items():
        mem = readable_memory(pid)
        if stage == "tlskey":
            assert d[::-1][:64] in mem, "the tlskey stage does not hold the key?"
        elif stage in ("smtpd", "smtp"):
            for n in needles:
                assert n not in mem, f"{stage} pid {pid} holds private key bytes"


def plain_mail_reply(m):
    with smtplib.SMTP("127.0.0.1", m.port, timeout=30) as s:
        s.ehlo("client.test.example")
        assert s.has_extn("starttls")
        return s.docmd("MAIL FROM:<a@sender.test>")


@pytest.mark.parametrize("conf", ["smtpd_tls_security_level = encrypt\n",
                                  "smtpd_enforce_tls = yes\n",
                                  "smtpd_use_tls = no\nsmtpd_enforce_tls = yes\n"])
def test_encrypt_refuses_mail_before_starttls(moat_factory, sink, conf):
    m, _ = tls_moat(moat_factory, sink, conf)
    assert plain_mail_reply(m) == (530, b"5.7.0 Must issue a STARTTLS command first")
    starttls_send(m)
    (msg,) = sink.wait_count(1)
    assert b" with ESMTPS id " in msg.content


def test_level_may_overrides_enforce_tls(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = may\n"
                    "smtpd_enforce_tls = yes\n")
    assert plain_mail_reply(m)[0] == 250


def negotiated(m, ctx):
    starttls_send(m, ctx)
    m.wait_log(r"Anonymous TLS connection established from \S+: (\S+) with cipher (\S+)")
    return re.findall(r"Anonymous TLS connection established from \S+: (\S+) with cipher (\S+)",
                      m.log())[-1]


@pytest.mark.parametrize("level,version", [("may", "TLSv1.2"), ("encrypt", "TLSv1.3")])
def test_protocols_by_level(moat_factory, sink, level, version):
    """smtpd_tls_protocols at may, smtpd_tls_mandatory_protocols at encrypt."""
    m, _ = tls_moat(moat_factory, sink, f"smtpd_tls_security_level = {level}\n"
                    "smtpd_tls_loglevel = 1\n"
                    "smtpd_tls_protocols = !TLSv1.3\n"
                    "smtpd_tls_mandatory_protocols = >=TLSv1.3\n")
    assert negotiated(m, client_ctx())[0] == version


def test_protocol_refused_fails_the_handshake(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = may\n"
                    "smtpd_tls_protocols = >=TLSv1.3\n")
    ctx = client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
        starttls_send(m, ctx)
    m.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]: .*(unsupported protocol|"
               r"version)")


def test_excluded_ciphers(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = may\n"
                    "smtpd_tls_loglevel = 1\nsmtpd_tls_protocols = <=TLSv1.2\n"
                    "smtpd_tls_exclude_ciphers = AESGCM\n")
    assert "CHACHA20" in negotiated(m, client_ctx())[1]


@pytest.mark.parametrize("level,grade,ok", [("may", "medium", False), ("may", "low", True),
                                            ("encrypt", "low", True)])
def test_cipher_grades(moat_factory, sink, level, grade, ok):
    """A client that offers only a CBC suite with a SHA-1 MAC: the medium
    grade refuses it, low takes it; at encrypt the mandatory grade rules."""
    param = "smtpd_tls_mandatory_ciphers" if level == "encrypt" else "smtpd_tls_ciphers"
    m, _ = tls_moat(moat_factory, sink, f"smtpd_tls_security_level = {level}\n"
                    f"smtpd_tls_loglevel = 1\n{param} = {grade}\n")
    ctx = client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-RSA-AES128-SHA")
    if ok:
        assert negotiated(m, ctx)[1] == "ECDHE-RSA-AES128-SHA"
    else:
        with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
            starttls_send(m, ctx)
        m.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]: .*no shared cipher")


@pytest.mark.parametrize("setting,name", [
    ("smtpd_tls_security_level = may", "smtpd_tls_security_level"),
    ("smtpd_enforce_tls = yes", "smtpd_enforce_tls"),
    ("smtpd_tls_security_level = may\nsmtpd_tls_protocols = TLSv9", "smtpd_tls_protocols"),
    ("smtpd_tls_security_level = may\nsmtpd_tls_cert_file = /nonexistent/cert.pem",
     "smtpd_tls_cert_file"),
])
def test_bad_tls_settings_stop_startup(moat_factory, tmp_path, setting, name):
    """smtpd's check run (STAGEDEF_F_CHECKED) judges its TLS settings before
    moatd forks anything: the refusal names the file and line."""
    m = moat_factory(main_cf_extra=setting + "\n")
    if name == "smtpd_tls_protocols":    # a certificate, so that only the protocol is wrong
        keys = make_keys(str(tmp_path / "keys"))
        with open(os.path.join(m.confdir, "main.cf"), "a") as f:
            f.write(f"smtpd_tls_cert_file = {keys['rsa_crt']}\n"
                    f"smtpd_tls_key_file = {keys['rsa_key']}\n")
    m.start(wait=False)
    assert m.proc.wait(timeout=60) != 0
    err = m.read_stderr()
    with open(os.path.join(m.confdir, "main.cf")) as f:
        n = [x.split(" = ")[0] for x in f.read().splitlines()].index(name) + 1
    assert re.search(rf"main\.cf:{n}: {name}: ", err), err


def test_starttls_timeout(moat_factory, sink):
    """A client that says STARTTLS and then nothing is dropped after
    smtpd_starttls_timeout, not smtpd_timeout (an hour here)."""
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = may\n"
                    "smtpd_timeout = 3600s\nsmtpd_starttls_timeout = 2s\n")
    with raw_starttls(m) as (raw, f):
        m.wait_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]: timeout", timeout=60)
        assert f.read() == b""      # closed


def test_tls_received_header(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink, "smtpd_tls_security_level = may\n"
                    "smtpd_tls_received_header = yes\n")
    qid = starttls_send(m)
    send(m, "a@sender.test", ["b@remote.test"], BODY)     # plaintext: no TLS lines
    tls, plain = sink.wait_count(2)
    head = tls.content.split(b"\r\n\r\n")[0].decode()
    assert re.search(r"^Received: from client\.test\.example \(unknown \[127\.0\.0\.1\]\)\r\n"
                     r"\t\(using TLSv1\.3 with cipher TLS_\w+ \(\d+/\d+ bits\)\r\n"
                     r"\t key-exchange \w+ server-signature RSA-PSS \(2048 bits\) "
                     r"server-digest SHA256\)\r\n"
                     r"\t\(No client certificate requested\)\r\n"
                     rf"\tby mx\.test\.example \(moat\) with ESMTPS id {qid}", head), head
    assert b"(using " not in plain.content.split(b"\r\n\r\n")[0]


def test_no_tls_received_header_by_default(moat_factory, sink):
    m, _ = tls_moat(moat_factory, sink)
    starttls_send(m)
    (msg,) = sink.wait_count(1)
    assert b"(using " not in msg.content.split(b"\r\n\r\n")[0]
