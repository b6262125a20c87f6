"""The tlskey stage (issue 9): the TLS private keys live in one confined
stage; the broker opens the key files and hands them over; smtpd and smtp
get signatures over typed IPC. Driven through the test build: a stage that
asks for a signature through the real client API (checked with openssl
against the certificate), and a compromised smtpd's hostile requests."""
import hashlib
import os
import re
import subprocess

import pytest

from conftest import HOOKS_BUILD, proc_status

OPENSSL = "/usr/bin/openssl"


def run(*args, data=None):
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def make_keys(d):
    """An RSA-2048 key and certificate in two files, and a P-256 key with its
    certificate in one chain file, root-only as an administrator keeps them."""
    os.makedirs(d, mode=0o700, exist_ok=True)
    rsa_key, rsa_crt = os.path.join(d, "rsa.key"), os.path.join(d, "rsa.crt")
    run(OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", rsa_key,
        "-out", rsa_crt, "-subj", "/CN=mx.test.example", "-days", "2")
    ec_key, ec_crt = os.path.join(d, "ec.key"), os.path.join(d, "ec.crt")
    run(OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", ec_key, "-out", ec_crt, "-subj", "/CN=mx.test.example", "-days", "2")
    chain = os.path.join(d, "ec-chain.pem")
    with open(chain, "wb") as f:
        f.write(open(ec_key, "rb").read() + open(ec_crt, "rb").read())
    client_chain = os.path.join(d, "client-chain.pem")
    with open(client_chain, "wb") as f:
        f.write(open(rsa_key, "rb").read() + open(rsa_crt, "rb").read())
    for p in (rsa_key, ec_key, chain, client_chain):
        os.chmod(p, 0o600)
    return {"rsa_key": rsa_key, "rsa_crt": rsa_crt, "ec_key": ec_key, "ec_crt": ec_crt,
            "chain": chain, "client_chain": client_chain}


def key_id(crt):
    """SHA-256 of the certificate's SubjectPublicKeyInfo: how a key is named on the wire."""
    der = run(OPENSSL, "x509", "-in", crt, "-noout", "-pubkey")
    der = run(OPENSSL, "pkey", "-pubin", "-outform", "DER", data=der)
    return hashlib.sha256(der).hexdigest()


def moat_with_keys(moat_factory, build=None, attack=None):
    kw = {"build": build} if build else {}
    m = moat_factory(**kw)
    keys = make_keys(os.path.join(m.dir, "keys"))
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"smtpd_tls_cert_file = {keys['rsa_crt']}\n"
                f"smtpd_tls_key_file = {keys['rsa_key']}\n"
                f"smtpd_tls_chain_files = {keys['chain']}\n"
                f"smtp_tls_key_file = {keys['ec_key']}\n"
                f"smtp_tls_chain_files = {keys['client_chain']}\n")
    if attack:
        m.env["MOAT_TEST_ATTACK"] = attack(keys)
    m.start()
    m.wait_log(r"moat/tlskey\[\d+\]: \S+main\.cf:\d+: smtpd_tls_key_file .*rsa\.key: RSA key of 2048 bits loaded")
    m.wait_log(r"moat/tlskey\[\d+\]: \S+main\.cf:\d+: smtpd_tls_chain_files .*ec-chain\.pem: EC key of 256 bits loaded")
    m.wait_log(r"moat/tlskey\[\d+\]: \S+main\.cf:\d+: smtp_tls_key_file .*ec\.key: EC key of 256 bits loaded")
    m.wait_log(r"moat/tlskey\[\d+\]: \S+main\.cf:\d+: smtp_tls_chain_files .*client-chain\.pem: RSA key of 2048 bits")
    return m, keys


def tlskey_pid(m):
    pids = [p for p, s in m.stage_pids().items() if s == "tlskey"]
    assert len(pids) == 1, m.ctl("status", check=False).stdout
    return pids[0]


def readable_memory(pid):
    """Every readable mapping of a process, as the test (root) sees it."""
    out = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if perms[0] != "r" or line.rstrip().endswith("[vvar]"):
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            try:
                mem.seek(lo)
                out.append(mem.read(hi - lo))
            except (OSError, ValueError, OverflowError):
                pass
    return b"".join(out)


def private_exponent(key_path):
    """The RSA key's d, big-endian, from openssl's text dump."""
    text = run(OPENSSL, "rsa", "-in", key_path, "-noout", "-text").decode()
    hexd = re.search(r"privateExponent:\n((?:\s+[0-9a-f:]+\n)+)", text).group(1)
    d = bytes.fromhex(re.sub(r"[\s:]", "", hexd))
    return d.lstrip(b"\0")


def test_tlskey_stage_holds_the_keys_confined(moat_factory):
    m, keys = moat_with_keys(moat_factory)
    pid = tlskey_pid(m)
    st = proc_status(pid)
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1"
    assert int(st["CapEff"], 16) == 0 and int(st["CapBnd"], 16) == 0
    assert all(int(u) != 0 for u in st["Uid"].split())
    assert os.readlink(f"/proc/{pid}/root") == os.path.join(m.queue, "empty")
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink(f"/proc/{m.proc.pid}/ns/net")
    # The stage holds the key (BIGNUM limbs are little-endian in memory) ...
    d = private_exponent(keys["rsa_key"])
    pem = open(keys["rsa_key"], "rb").read()
    der = run(OPENSSL, "pkey", "-in", keys["rsa_key"], "-outform", "DER")
    assert d[::-1][:64] in readable_memory(pid), "the tlskey stage does not hold the key?"
    # ... and no other stage has seen it in any form: the file's PEM lines,
    # its DER, the private exponent in either byte order.
    needles = [d[:64], d[::-1][:64], der[-200:-100], pem.splitlines()[5]]
    for other, stage in m.stage_pids().items():
        if stage == "tlskey":
            continue
        mem = readable_memory(other)
        for n in needles:
            assert n not in mem, f"{stage} pid {other} holds private key bytes"


@pytest.mark.parametrize("which,alg,verify_opts", [
    ("rsa", 2, ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest",
                "-pkeyopt", "rsa_mgf1_md:sha256"]),
    ("rsa", 1, ["-pkeyopt", "rsa_padding_mode:pkcs1"]),
    ("ec", 3, []),
])
def test_signature_through_the_stage_verifies(moat_factory, which, alg, verify_opts):
    digest = hashlib.sha256(b"TLS 1.3, server CertificateVerify" + bytes(64)).digest()
    m, keys = moat_with_keys(
        moat_factory, build=HOOKS_BUILD,
        attack=lambda k: f"smtpd:tlskey-sign/{alg}/1/{key_id(k[which + '_crt'])}/{digest.hex()}")
    line = m.wait_log(r"moat/smtpd\[\d+\]: tlskey-sign status 0 sig [0-9a-f]+")
    sig = bytes.fromhex(re.search(r"tlskey-sign status 0 sig ([0-9a-f]+)", m.log()).group(1))
    d = m.dir
    pub = run(OPENSSL, "x509", "-in", keys[which + "_crt"], "-noout", "-pubkey")
    with open(f"{d}/pub.pem", "wb") as f:
        f.write(pub)
    with open(f"{d}/sig", "wb") as f:
        f.write(sig)
    with open(f"{d}/digest", "wb") as f:
        f.write(digest)
    r = subprocess.run([OPENSSL, "pkeyutl", "-verify", "-pubin", "-inkey", f"{d}/pub.pem",
                        "-sigfile", f"{d}/sig", "-in", f"{d}/digest", "-pkeyopt", "digest:sha256",
                        *verify_opts], capture_output=True, text=True)
    assert r.returncode == 0 and "Signature Verified Successfully" in r.stdout, (r, line)
    assert "killing" not in m.log()


@pytest.mark.parametrize("action,want", [
    # well-formed, refused with a status: the channel stays, nobody is killed
    ("tlskey-badalg", r"tlskey-badalg status 1"),
    ("tlskey-shortdigest", r"tlskey-shortdigest status 1"),
    # past the schema's bound: the channel is cut and the requester reported
    ("tlskey-hugedigest", r"tlskey pid \d+ reports protocol violation by smtpd pid \d+: "
                          r".*field 'digest': length 65 > max 64"),
])
def test_hostile_sign_requests_are_refused(moat_factory, action, want):
    m, _ = moat_with_keys(moat_factory, build=HOOKS_BUILD, attack=lambda k: f"smtpd:{action}")
    first = tlskey_pid(m)
    m.wait_log(want)
    if action == "tlskey-hugedigest":
        m.wait_log(r"killing smtpd pid \d+: protocol violation")
    else:
        why = "signature algorithm not used by TLS" if "alg" in action else \
            "digest length does not match its algorithm"
        m.wait_log(r"moat/tlskey\[\d+\]: warning: sign request from smtpd\[\d+\] refused: " + why)
        m.wait_log(rf"smtpd pid \d+: test: attack {action}: failed: Permission denied")
        assert "killing" not in m.log()
    assert not re.search(r"process moat-tlskey pid \d+ (killed|exit)", m.log()), m.log()
    m.wait_ready(timeout=60)
    assert tlskey_pid(m) == first


def test_sign_flood_is_rate_limited(moat_factory):
    # 20,000 requests as fast as one channel carries them: past the burst of
    # 100 the stage answers "over its rate" (it refills one per 2 ms, so all
    # 20,000 answered in under 40 s would have to include refusals) and stays up.
    m, _ = moat_with_keys(moat_factory, build=HOOKS_BUILD,
                          attack=lambda k: "smtpd:tlskey-flood=20000")
    first = tlskey_pid(m)
    m.wait_log(r"tlskey-flood ok=\d+", timeout=120)
    got = dict(kv.split("=") for kv in
               re.search(r"tlskey-flood (ok=.*cut=\d+)", m.log()).group(1).split())
    assert got["cut"] == "0" and got["ok"] == "0" and got["refused"] == "0", got
    assert int(got["nokey"]) >= 100 and int(got["rate"]) > 0, got
    assert int(got["nokey"]) + int(got["rate"]) == 20000, got
    m.wait_log(r"smtpd pid \d+: test: attack tlskey-flood=20000: failed: Device or resource busy")
    assert tlskey_pid(m) == first
    assert "killing" not in m.log()
