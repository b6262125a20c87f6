"""smtpd's certificates (issue 9): smtpd_tls_chain_files with an RSA and an
ECDSA key at once, smtpd_tls_cert_file beside smtpd_tls_eccert_file, the
intermediate sent after the leaf, and a chain out of order or a key with no
certificate refused at start-up with the file and main.cf line."""
import os
import re
import subprocess

import pytest

from test_smtp import BODY, start
from test_tlskey import OPENSSL, run
from test_tlskey_config import assert_refused_at


def pem(*paths):
    return b"".join(open(p, "rb").read() for p in paths)


def issue(d, name, keyalg, ca=None, cn=None):
    """A key and a certificate for name, signed by ca (a (key, crt) pair) or self."""
    key, crt, csr = (os.path.join(d, f"{name}.{x}") for x in ("key", "crt", "csr"))
    newkey = ["-newkey", "rsa:2048"] if keyalg == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subj = f"/CN={cn or name + '.test.example'}"
    if ca is None:
        run(OPENSSL, "req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", crt, "-subj", subj,
            "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE")
    else:
        run(OPENSSL, "req", *newkey, "-nodes", "-keyout", key, "-out", csr, "-subj", subj)
        ext = os.path.join(d, f"{name}.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:TRUE\n" if name.startswith("inter") else
                    "basicConstraints=CA:FALSE\n")
        run(OPENSSL, "x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial",
            "-out", crt, "-days", "2", "-extfile", ext)
    os.chmod(key, 0o600)
    return key, crt


@pytest.fixture
def pki(tmp_path):
    d = str(tmp_path / "pki")
    os.makedirs(d, mode=0o700)
    root = issue(d, "root", "rsa")
    inter = issue(d, "inter", "rsa", ca=root)
    rsa = issue(d, "mx-rsa", "rsa", ca=inter, cn="mx.test.example")
    ec = issue(d, "mx-ec", "ec", ca=inter, cn="mx.test.example")
    files = {"root": root[1], "inter": inter[1]}
    for name, (key, crt) in (("rsa", rsa), ("ec", ec)):
        files[name + "_key"], files[name + "_crt"] = key, crt
        chain = os.path.join(d, f"{name}-chain.pem")
        with open(chain, "wb") as f:
            f.write(pem(key, crt, inter[1]))
        os.chmod(chain, 0o600)
        files[name + "_chain"] = chain
    return d, files


def handshake(m, sigalgs):
    """openssl s_client over STARTTLS offering only sigalgs: (the signature
    type the server used, the number of certificates it sent)."""
    p = subprocess.run([OPENSSL, "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{m.port}",
                        "-sigalgs", sigalgs, "-showcerts", "-brief"],
                       input=b"QUIT\r\n", capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode(errors="replace")
    sig = re.search(r"(?:Peer signature|Signature) type: (\S+)", out)
    count = len(re.findall(r"-----BEGIN CERTIFICATE-----", out))
    if count == 0:  # -brief hides the chain: ask again without it
        p = subprocess.run([OPENSSL, "s_client", "-starttls", "smtp", "-connect",
                            f"127.0.0.1:{m.port}", "-sigalgs", sigalgs, "-showcerts"],
                           input=b"QUIT\r\n", capture_output=True, timeout=60)
        count = len(re.findall(rb"-----BEGIN CERTIFICATE-----", p.stdout))
    assert sig, out
    return sig.group(1), count


def certs_moat(moat_factory, sink, lines):
    m = moat_factory(main_cf_extra="mynetworks = 127.0.0.0/8\n"
                     f"relayhost = [127.0.0.1]:{sink.port}\nsmtpd_tls_security_level = may\n"
                     + "".join(x + "\n" for x in lines))
    m.start()
    return m


def test_chain_files_serve_rsa_and_ecdsa_with_the_intermediate(moat_factory, sink, pki):
    _, f = pki
    m = certs_moat(moat_factory, sink, [f"smtpd_tls_chain_files = {f['rsa_chain']}, {f['ec_chain']}"])
    assert handshake(m, "ECDSA+SHA256") == ("ECDSA", 2)
    assert handshake(m, "rsa_pss_rsae_sha256") == ("RSA-PSS", 2)


def test_cert_file_and_eccert_file(moat_factory, sink, pki):
    _, f = pki
    m = certs_moat(moat_factory, sink, [
        f"smtpd_tls_cert_file = {f['rsa_crt']}", f"smtpd_tls_key_file = {f['rsa_key']}",
        f"smtpd_tls_eccert_file = {f['ec_crt']}", f"smtpd_tls_eckey_file = {f['ec_key']}"])
    assert handshake(m, "ECDSA+SHA256") == ("ECDSA", 1)
    assert handshake(m, "rsa_pss_rsae_sha256") == ("RSA-PSS", 1)


def test_rsa_only_server_refuses_an_ecdsa_only_client(moat_factory, sink, pki):
    """Without smtpd_tls_eccert_file the ECDSA test above cannot pass: the
    server has no ECDSA certificate to offer."""
    _, f = pki
    m = certs_moat(moat_factory, sink, [f"smtpd_tls_chain_files = {f['rsa_chain']}"])
    with pytest.raises(AssertionError):
        handshake(m, "ECDSA+SHA256")
    assert handshake(m, "rsa_pss_rsae_sha256") == ("RSA-PSS", 2)


def refused_moat(moat_factory, line):
    m = moat_factory(main_cf_extra="smtpd_tls_security_level = may\n" + line + "\n")
    return m


@pytest.mark.parametrize("parts,why", [
    (("rsa_key", "inter", "rsa_crt"), r"chain out of order: certificate 2 \(/CN=mx\.test\.example\) "
                                     r"did not issue certificate 1 \(/CN=inter\.test"),
    (("rsa_chain", "ec_key"), r"a private key with no certificate after it \(after certificate 2\)"),
])
def test_bad_chain_file_stops_start_up(moat_factory, pki, parts, why):
    """A chain out of order; a key with no certificate after it."""
    d, f = pki
    bad = os.path.join(d, "bad-chain.pem")
    with open(bad, "wb") as out:
        out.write(pem(*(f[p] for p in parts)))
    m = refused_moat(moat_factory, f"smtpd_tls_chain_files = {bad}")
    assert_refused_at(m, "smtpd_tls_chain_files", rf"smtpd_tls_chain_files: {re.escape(bad)}: " + why)


def test_two_rsa_certificates_stop_start_up(moat_factory, pki):
    d, f = pki
    m = refused_moat(moat_factory, f"smtpd_tls_cert_file = {f['rsa_crt']}\n"
                     f"smtpd_tls_key_file = {f['rsa_key']}\n"
                     f"smtpd_tls_eccert_file = {f['inter']}\nsmtpd_tls_eckey_file = {f['rsa_key']}")
    assert_refused_at(m, "smtpd_tls_eccert_file", r"smtpd_tls_eccert_file: .*inter\.crt: "
                      r"a second RSA certificate \(one per key type\)")


def test_key_not_matching_its_certificate_stops_start_up(moat_factory, pki):
    """The RSA key followed by the ECDSA certificate: tlskey's check run
    refuses the pair before anything starts."""
    d, f = pki
    bad = os.path.join(d, "mismatch.pem")
    with open(bad, "wb") as out:
        out.write(pem(f["rsa_key"], f["ec_crt"], f["inter"]))
    os.chmod(bad, 0o600)
    m = refused_moat(moat_factory, f"smtpd_tls_chain_files = {bad}")
    assert_refused_at(m, "smtpd_tls_chain_files", rf"smtpd_tls_chain_files {re.escape(bad)}: "
                      r"the private key does not match the certificate next to it")
