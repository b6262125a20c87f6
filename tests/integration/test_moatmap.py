"""moatmap against Debian's postmap, both directions: a .db built by one is
read by the other (keys and values with their trailing NUL, case folding),
-q/-d/-s/-i/-r/-w/-N/-n/-f/-F, exit codes as postmap(1), atomic replace,
refusal of a malformed source with file and line, default_database_type.
No daemon is started: moatmap and postmap are run directly."""
import base64
import os
import shutil
import subprocess

import pytest

from conftest import BUILD

POSTMAP = "/usr/sbin/postmap"


@pytest.fixture
def tdir(tmp_path):
    (tmp_path / "main.cf").write_text("")
    return tmp_path


def moatmap(tdir, *args, stdin=None):
    return subprocess.run([os.path.join(BUILD, "bin", "moatmap"), "-c", str(tdir), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def postmap(tdir, *args, stdin=None):
    env = dict(os.environ, MAIL_CONFIG=str(tdir))
    return subprocess.run([POSTMAP, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60)


SOURCE = ("# transport\n"
          "Example.COM   relay:[10.0.0.1]:25\n"
          ".sub.example.com\n"
          "  smtp:[10.0.0.2]\n"
          "user+tag@Example.org  REJECT  no thanks\n")


@pytest.mark.parametrize("kind", ["hash", "btree"])
def test_moatmap_built_is_read_by_postmap(tdir, kind):
    src = tdir / "transport"
    src.write_text(SOURCE)
    r = moatmap(tdir, f"{kind}:{src}")
    assert r.returncode == 0, r.stderr
    for key, want in [("example.com", "relay:[10.0.0.1]:25"), ("EXAMPLE.com", "relay:[10.0.0.1]:25"),
                      (".sub.example.com", "smtp:[10.0.0.2]"),
                      ("user+tag@example.org", "REJECT  no thanks")]:
        p = postmap(tdir, "-q", key, f"{kind}:{src}")
        assert (p.returncode, p.stdout) == (0, want + "\n"), (key, p.stderr)
    p = postmap(tdir, "-N", "-q", "example.com", f"{kind}:{src}")
    assert p.stdout == "relay:[10.0.0.1]:25\n"     # the key carries its NUL
    assert postmap(tdir, "-q", "nope", f"{kind}:{src}").returncode == 1
    listing = sorted(postmap(tdir, "-s", f"{kind}:{src}").stdout.splitlines())
    assert listing == sorted(moatmap(tdir, "-s", f"{kind}:{src}").stdout.splitlines())


@pytest.mark.parametrize("kind", ["hash", "btree"])
def test_postmap_built_is_read_by_moatmap(tdir, kind):
    src = tdir / "access"
    src.write_text(SOURCE)
    assert postmap(tdir, f"{kind}:{src}").returncode == 0
    r = moatmap(tdir, "-q", "Example.Com", f"{kind}:{src}")
    assert (r.returncode, r.stdout) == (0, "relay:[10.0.0.1]:25\n"), r.stderr
    r = moatmap(tdir, "-N", "-q", "user+tag@example.org", f"{kind}:{src}")
    assert r.stdout == "REJECT  no thanks\n"
    r = moatmap(tdir, "-n", "-q", "example.com", f"{kind}:{src}")
    assert r.returncode == 1      # postmap wrote the NUL; -n looks without it
    r = moatmap(tdir, "-q", "-", f"{kind}:{src}", stdin="a\nEXAMPLE.COM\nb\n")
    assert (r.returncode, r.stdout) == (0, "EXAMPLE.COM\trelay:[10.0.0.1]:25\n")
    r = moatmap(tdir, "-q", "absent", f"{kind}:{src}")
    assert (r.returncode, r.stdout) == (1, "")


def test_moatmap_no_nul_matches_postmap_no_nul(tdir):
    src = tdir / "t"
    src.write_text("k v\n")
    assert moatmap(tdir, "-n", f"hash:{src}").returncode == 0
    assert postmap(tdir, "-n", "-q", "k", f"hash:{src}").stdout == "v\n"
    assert postmap(tdir, "-N", "-q", "k", f"hash:{src}").returncode == 1
    assert postmap(tdir, "-q", "k", f"hash:{src}").stdout == "v\n"     # readers try both


def test_moatmap_fold_and_f(tdir):
    src = tdir / "t"
    src.write_text("MixedCase v\n")
    assert moatmap(tdir, "-f", f"hash:{src}").returncode == 0
    assert moatmap(tdir, "-f", "-q", "MixedCase", f"hash:{src}").stdout == "v\n"
    assert moatmap(tdir, "-q", "MixedCase", f"hash:{src}").returncode == 1   # folded query
    assert postmap(tdir, "-f", "-q", "MixedCase", f"hash:{src}").stdout == "v\n"


def test_moatmap_delete_and_incremental(tdir):
    src = tdir / "t"
    src.write_text("a 1\nb 2\n")
    assert moatmap(tdir, f"hash:{src}").returncode == 0
    r = moatmap(tdir, "-d", "A", f"hash:{src}")
    assert r.returncode == 0, r.stderr
    assert moatmap(tdir, "-d", "a", f"hash:{src}").returncode == 1   # already gone
    assert postmap(tdir, "-q", "a", f"hash:{src}").returncode == 1
    r = moatmap(tdir, "-i", f"hash:{src}", stdin="c 3\nb other\n")
    assert r.returncode == 0
    assert "stdin, line 2: duplicate entry: \"b\"" in r.stderr
    assert postmap(tdir, "-q", "c", f"hash:{src}").stdout == "3\n"
    assert postmap(tdir, "-q", "b", f"hash:{src}").stdout == "2\n"   # first kept
    assert moatmap(tdir, "-i", "-r", f"hash:{src}", stdin="b replaced\n").returncode == 0
    assert postmap(tdir, "-q", "b", f"hash:{src}").stdout == "replaced\n"
    r = moatmap(tdir, "-i", "-w", f"hash:{src}", stdin="b ignored\n")
    assert r.returncode == 0 and "duplicate" not in r.stderr
    assert postmap(tdir, "-q", "b", f"hash:{src}").stdout == "replaced\n"
    # Deleting what postmap built.
    assert postmap(tdir, f"hash:{src}").returncode == 0
    assert moatmap(tdir, "-d", "-", f"hash:{src}", stdin="a\nzz\n").returncode == 0
    assert postmap(tdir, "-q", "a", f"hash:{src}").returncode == 1
    assert postmap(tdir, "-q", "b", f"hash:{src}").stdout == "2\n"


def test_moatmap_replaces_atomically(tdir):
    """A rebuild renames a new file over the .db: a reader holding the old
    one keeps a whole table, and a failed rebuild leaves the old one."""
    src = tdir / "t"
    src.write_text("k old\n")
    assert moatmap(tdir, f"hash:{src}").returncode == 0
    os.chmod(tdir / "t.db", 0o640)
    ino = os.stat(tdir / "t.db").st_ino
    held = open(tdir / "t.db", "rb")
    try:
        src.write_text("k new\n")
        assert moatmap(tdir, f"hash:{src}").returncode == 0
        st = os.stat(tdir / "t.db")
        assert st.st_ino != ino and st.st_mode & 0o777 == 0o640
        assert os.fstat(held.fileno()).st_nlink == 0    # the old file, still whole
    finally:
        held.close()
    src.write_text("k newer\nbroken-line-without-value\n")
    r = moatmap(tdir, f"hash:{src}")
    assert r.returncode == 1
    assert f"{src}, line 2: expected format: key whitespace value" in r.stderr
    assert postmap(tdir, "-q", "k", f"hash:{src}").stdout == "new\n"
    assert sorted(os.listdir(tdir)) == ["main.cf", "t", "t.db"]   # no temporary left


def test_moatmap_errors_and_exit_codes(tdir):
    r = moatmap(tdir, "hash:" + str(tdir / "missing"))
    assert r.returncode == 1 and "missing: No such file" in r.stderr
    (tdir / "p").write_text("/a/ b\n")
    r = moatmap(tdir, "pcre:" + str(tdir / "p"))
    assert r.returncode == 1 and "cannot build a pcre table" in r.stderr
    assert moatmap(tdir, "-q", "a", "pcre:" + str(tdir / "p")).stdout == "b\n"
    (tdir / "bad").write_text("/(/ b\n")
    r = moatmap(tdir, "-q", "a", "pcre:" + str(tdir / "bad"))
    assert r.returncode == 1 and f"pcre map {tdir}/bad, line 1: error in regex" in r.stderr
    r = moatmap(tdir, "-q", "a", "nosuch:" + str(tdir / "p"))
    assert r.returncode == 1 and "unsupported table type" in r.stderr
    assert moatmap(tdir).returncode == 1            # usage


def test_moatmap_default_database_type(tdir):
    """A bare path is default_database_type: btree here, so postmap reads it
    as btree and not as hash."""
    (tdir / "main.cf").write_text("default_database_type = btree\n")
    src = tdir / "t"
    src.write_text("k v\n")
    assert moatmap(tdir, str(src)).returncode == 0
    assert postmap(tdir, "-q", "k", f"btree:{src}").stdout == "v\n"
    assert postmap(tdir, "-q", "k", f"hash:{src}").returncode != 0
    assert moatmap(tdir, "-q", "k", str(src)).stdout == "v\n"
    (tdir / "main.cf").write_text("default_database_type = dbm\n")
    r = moatmap(tdir, str(src))
    assert r.returncode == 1 and "default_database_type" in r.stderr


def test_moatmap_F_base64_files(tdir):
    (tdir / "a.pem").write_text("first\n")
    (tdir / "b.pem").write_text("second\n")
    src = tdir / "sni"
    src.write_text(f"mail.example.com {tdir}/a.pem, {tdir}/b.pem\n")
    assert moatmap(tdir, "-F", f"hash:{src}").returncode == 0
    raw = postmap(tdir, "-q", "mail.example.com", f"hash:{src}").stdout.strip()
    assert base64.b64decode(raw) == b"first\nsecond\n"
    r = moatmap(tdir, "-F", "-q", "mail.example.com", f"hash:{src}")
    assert r.stdout == "first\nsecond\n\n"
    p = postmap(tdir, "-F", "-q", "mail.example.com", f"hash:{src}")
    assert (p.returncode, p.stdout) == (0, r.stdout)


def test_moatmap_texthash_listing_matches_postmap(tdir):
    src = tdir / "t"
    src.write_text("key1 a\n   b\nKey2 v2\n")
    mine = sorted(moatmap(tdir, "-s", f"texthash:{src}").stdout.splitlines())
    theirs = sorted(postmap(tdir, "-s", f"texthash:{src}").stdout.splitlines())
    assert mine == theirs
