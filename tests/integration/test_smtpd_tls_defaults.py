"""What moat's smtpd offers with no TLS tuning at all (issue 9: "no RC4,
3DES, export, anonymous or CBC-SHA1 suites offered by default"), checked as
testssl.sh does: every TLS 1.2 suite OpenSSL knows (security level 0, so
the client side refuses nothing) is offered alone, and the ones smtpd
accepts are listed; TLS 1.0 and 1.1 are refused whatever the suite."""
import re
import subprocess

import pytest

from test_tlskey import OPENSSL, run
from test_smtpd_tls import tls_moat


def accepts(m, *args):
    """Does a STARTTLS handshake with these s_client options succeed? And with what cipher."""
    p = subprocess.run([OPENSSL, "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{m.port}",
                        "-brief", *args], input=b"QUIT\r\n", capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode(errors="replace")
    got = re.search(r"Ciphersuite: (\S+)", out)
    return got.group(1) if "CONNECTION ESTABLISHED" in out and got else None


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_default_suites_are_forward_secret_aead_only(moat_factory, sink, key):
    m, _ = tls_moat(moat_factory, sink, key=key)
    suites = run(OPENSSL, "ciphers", "-tls1_2", "ALL:COMPLEMENTOFALL:@SECLEVEL=0").decode().strip()
    tls12 = [s for s in suites.split(":") if not s.startswith("TLS_")]
    assert len(tls12) > 60, tls12           # the scan covers what OpenSSL can offer
    taken = [s for s in tls12 if accepts(m, "-tls1_2", "-cipher", s + ":@SECLEVEL=0")]
    assert taken, "no TLS 1.2 suite at all"
    for s in taken:
        assert re.match(r"(ECDHE|DHE)-((RSA|ECDSA)-)?(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305|"
                        r"AES(128|256)-CCM|ARIA(128|256)-GCM-SHA(256|384))$", s), \
            f"smtpd accepts {s} by default: {taken}"
    weak = "aNULL:eNULL:EXPORT:RC4:3DES:DES:MD5:kRSA:SHA1:@SECLEVEL=0"
    assert accepts(m, "-tls1_2", "-cipher", weak) is None
    assert accepts(m) and accepts(m).startswith("TLS_")    # TLS 1.3 by default


@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_tls10_and_11_are_refused(moat_factory, sink, version):
    m, _ = tls_moat(moat_factory, sink)
    assert accepts(m, version, "-cipher", "ALL:@SECLEVEL=0") is None
    assert accepts(m, "-tls1_2") is not None     # the same server, a version it takes
