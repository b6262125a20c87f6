"""tests/check_params.py can fail: run it on a copy of the source tree with
one thing broken at a time, and on the tree as it is (which must pass)."""
import os
import re
import shutil
import subprocess
import tempfile

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIRS = ("lib", "mail", "queue", "ipc", "conf", "sandbox", "maps", "chroot-setup", "audit",
        "skeleton", "stagecf", "daemons", "tools", "tests")


@pytest.fixture
def tree():
    d = tempfile.mkdtemp(prefix="moat-check-")
    for name in DIRS:
        if os.path.isdir(os.path.join(TOP, name)):
            shutil.copytree(os.path.join(TOP, name), os.path.join(d, name),
                            ignore=shutil.ignore_patterns("__pycache__", "*.o"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(d):
    r = subprocess.run(["/usr/bin/python3", os.path.join(d, "tests", "check_params.py")],
                       capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def edit(d, path, old, new):
    p = os.path.join(d, path)
    with open(p) as f:
        text = f.read()
    assert old in text, (path, old)
    with open(p, "w") as f:
        f.write(text.replace(old, new, 1))


def test_tree_passes(tree):
    rc, out = run(tree)
    assert rc == 0, out
    assert "every implemented parameter is read" in out


def test_implemented_but_unread_fails(tree):
    edit(tree, "conf/params.c", '\tP_BOOL("biff",',
         '\tP_INT("smtpd_bogus_limit", "3", 0, 9, 0, "nobody reads this"),\n\tP_BOOL("biff",')
    rc, out = run(tree)
    assert rc == 1
    assert re.search(r"conf/params\.c:\d+: smtpd_bogus_limit is declared implemented but no code "
                     r"reads it", out), out


def test_unmarking_an_unimplemented_parameter_fails(tree):
    # (not a TLS name: smtpd_tls_cert_file counts as read now, through the
    # default of smtpd_tls_key_file, "$smtpd_tls_cert_file")
    edit(tree, "conf/params.c", '"lmtp_lhlo_name", "$myhostname", U,', '"lmtp_lhlo_name", "$myhostname", 0,')
    rc, out = run(tree)
    assert rc == 1 and "lmtp_lhlo_name is declared implemented" in out, out


def test_a_name_in_a_comment_is_no_read(tree):
    # the crude check of old counted any mention of the name
    edit(tree, "daemons/smtpd/smtpd_conf.c", 'cf->peername_lookup = conf_bool(c, "smtpd_peername_lookup");',
         '/* smtpd_peername_lookup */')
    rc, out = run(tree)
    assert rc == 1 and "smtpd_peername_lookup is declared implemented" in out, out


def test_per_transport_names_need_their_builder(tree):
    edit(tree, "daemons/qmgr/qmgr.c", "qmgr_transport_param(q, tr->name, CONF_SUFFIX_CONCURRENCY,",
         'qmgr_transport_param(q, tr->name, "",')
    rc, out = run(tree)
    assert rc == 1
    assert "CONF_SUFFIX_CONCURRENCY (_destination_concurrency_limit) is registered but no code " \
           "builds names with it" in out, out
    assert "smtp_destination_concurrency_limit is declared implemented" in out, out


def test_unregistered_suffix_is_an_error(tree):
    edit(tree, "conf/conf.h", "#define CONF_SUFFIX_RECIPIENTS",
         '#define CONF_SUFFIX_RATE\t"_destination_rate_delay"\n#define CONF_SUFFIX_RECIPIENTS')
    rc, out = run(tree)
    assert rc == 1 and "CONF_SUFFIX_RATE is not listed in conf/transport.c" in out, out
