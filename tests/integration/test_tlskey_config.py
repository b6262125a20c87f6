"""Where TLS private keys may be named, and what stops start-up (issue 9):
moatd refuses keys that no tlskey service would hold, key files that
cannot be read or hold no usable key (the tlskey program's check run, with
the main.cf or master.cf line that named them), and a master.cf service's
-o overrides name keys the tlskey stage then holds."""
import os
import pwd
import re
import smtplib

import pytest

from conftest import proc_status
from test_smtp import BODY
from test_smtpd_tls import client_ctx, starttls_send
from test_tlskey import make_keys


def conf_line(m, name, fname="main.cf"):
    """The 1-based line of fname that sets name."""
    with open(os.path.join(m.confdir, fname)) as f:
        for i, line in enumerate(f.read().splitlines(), 1):
            if line.split("=")[0].strip() == name:
                return i
    raise AssertionError(f"{name} not set in {fname}")


def edit_master(m, edit):
    path = os.path.join(m.confdir, "master.cf")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(edit(text))
    return m


def with_opts(opts):
    """An edit of master.cf: opts after the inet smtpd service's command."""
    return lambda t: re.sub(r"(?m)^(\S+\s+inet\s.*\bsmtpd)$", lambda x: x.group(1) + opts, t)


def refused(m):
    m.start(wait=False)
    assert m.proc.wait(timeout=60) != 0, "moatd started"
    return m.read_stderr()


def assert_refused_at(m, name, after):
    """moatd does not start, saying "main.cf:<line of name>: " then after (a regex)."""
    err = refused(m)
    assert re.search(rf"main\.cf:{conf_line(m, name)}: " + after, err), err


def tls_conf(m, cert, key):
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {cert}\n"
                f"smtpd_tls_key_file = {key}\n")


def test_missing_key_file_stops_start_up_with_its_line(moat_factory, tmp_path):
    m = moat_factory()
    keys = make_keys(str(tmp_path / "keys"))
    tls_conf(m, keys["rsa_crt"], str(tmp_path / "no-such.key"))
    assert_refused_at(m, "smtpd_tls_key_file", rf"smtpd_tls_key_file {tmp_path}/no-such\.key: "
                      r"No such file or directory")


def test_key_file_without_a_key_stops_start_up(moat_factory, tmp_path):
    """A certificate named as the key: the tlskey check run finds no key."""
    m = moat_factory()
    keys = make_keys(str(tmp_path / "keys"))
    tls_conf(m, keys["rsa_crt"], keys["ec_crt"])
    assert_refused_at(m, "smtpd_tls_key_file", rf"smtpd_tls_key_file {re.escape(keys['ec_crt'])}: "
                      r"no usable private key in it")


def test_key_by_default_in_the_cert_file_names_the_cert_line(moat_factory, tmp_path):
    """smtpd_tls_key_file defaults to $smtpd_tls_cert_file: a cert file with
    no key in it is refused at the line of smtpd_tls_cert_file."""
    m = moat_factory()
    keys = make_keys(str(tmp_path / "keys"))
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {keys['rsa_crt']}\n")
    assert_refused_at(m, "smtpd_tls_cert_file", rf"smtpd_tls_key_file {re.escape(keys['rsa_crt'])}: "
                      r"no usable private key in it")


def test_keys_and_no_tlskey_service_stop_start_up(moat_factory, tmp_path):
    m = edit_master(moat_factory(), lambda t: "\n".join(
        x for x in t.splitlines() if not x.startswith("tlskey ")) + "\n")
    keys = make_keys(str(tmp_path / "keys"))
    tls_conf(m, keys["rsa_crt"], keys["rsa_key"])
    assert_refused_at(m, "smtpd_tls_key_file", r"smtpd_tls_key_file: master\.cf runs no tlskey "
                      rf"service to hold the key {re.escape(keys['rsa_key'])}")


def test_key_named_by_a_master_cf_override_is_held(moat_factory, sink, tmp_path):
    """main.cf has no TLS at all; the smtpd service's -o overrides name the
    certificate and key, and STARTTLS works with that key in tlskey."""
    keys = make_keys(str(tmp_path / "keys"))
    opts = (f" -o smtpd_tls_security_level=may -o smtpd_tls_cert_file={keys['ec_crt']}"
            f" -o smtpd_tls_key_file={keys['ec_key']}")
    m = edit_master(moat_factory(main_cf_extra="mynetworks = 127.0.0.0/8\n"
                                 f"relayhost = [127.0.0.1]:{sink.port}\n"
                                 "smtpd_tls_loglevel = 1\n"), with_opts(opts))
    m.start()
    starttls_send(m)
    sink.wait_count(1)
    m.wait_log(r"Anonymous TLS connection established from .* server-signature ECDSA")


def test_bad_key_in_an_override_names_master_cf(moat_factory, tmp_path):
    keys = make_keys(str(tmp_path / "keys"))
    opts = (f" -o smtpd_tls_security_level=may -o smtpd_tls_cert_file={keys['ec_crt']}"
            f" -o smtpd_tls_key_file={tmp_path}/gone.key")
    m = edit_master(moat_factory(), with_opts(opts))
    err = refused(m)
    assert re.search(rf"master\.cf:\d+: smtpd_tls_key_file {tmp_path}/gone\.key: "
                     r"No such file or directory", err), err


def test_tlskey_runs_alone_under_its_own_uid(moat_factory, tmp_path):
    """tlskey_user: no other stage has the key holder's uid; a configuration
    that gives it helper_user's account is refused before anything starts."""
    m = moat_factory()
    keys = make_keys(str(tmp_path / "keys"))
    tls_conf(m, keys["rsa_crt"], keys["rsa_key"])
    m.start()
    pids = m.stage_pids()
    uid = {p: int(proc_status(p)["Uid"].split()[0]) for p in pids}
    (key_pid,) = [p for p, s in pids.items() if s == "tlskey"]
    assert uid[key_pid] == pwd.getpwnam("moat-key").pw_uid
    assert [s for p, s in pids.items() if p != key_pid and uid[p] == uid[key_pid]] == []
    m.stop()
    shared = moat_factory(main_cf_extra="tlskey_user = moat-aux\n")
    shared.start(wait=False)
    assert shared.proc.wait(timeout=60) != 0
    assert "tlskey_user must be four different users" in shared.read_stderr()
