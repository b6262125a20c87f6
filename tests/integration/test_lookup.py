"""The lookup stage (issue 8): tables opened by the broker, read by one
confined stage, asked over typed IPC. Driven through `moatctl lookup`, which
asks the running stage exactly as a stage does, and through the test build
(a compromised stage's queries, the client API across restarts)."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import HOOKS_BUILD, pid_alive


def table_dir(m):
    d = os.path.join(m.dir, "tables")
    os.makedirs(d, exist_ok=True)
    return d


def write_table(path, text):
    """Replace a table as postmap or an editor would: a new file renamed over."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def lookup(m, table, key, *order):
    return m.ctl("lookup", table, key, *order, check=False)


def hold_table(m, spec):
    """Wait until the running lookup stage holds spec (a query it answers,
    found or not): a test that then breaks the file sees "has changed"."""
    r = lookup(m, spec, "moat-test-probe")
    assert r.returncode in (0, 1), r.stdout + r.stderr


def lookup_pid(m):
    pids = [p for p, s in m.stage_pids().items() if s == "lookup"]
    assert len(pids) == 1, m.ctl("status", check=False).stdout
    return pids[0]


def wait_answer(m, table, key, want, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = lookup(m, table, key)
        if r.returncode == 0 and r.stdout == want + "\n":
            return
        time.sleep(0.2)
    raise AssertionError(f"{table} {key} never answered {want!r}: {r.stdout!r} {r.stderr!r}\n"
                         + m.log()[-3000:])


def moat_with_tables(moat_factory, tables, build=None, env_extra=None, start=True):
    """A moat whose proxy_read_maps names tables {spec_template: text}: each
    template's {d} is the table directory, and each text is written there."""
    kw = {"build": build} if build else {}
    m = moat_factory(env_extra=env_extra, **kw)
    d = table_dir(m)
    specs = []
    for spec, text in tables.items():
        spec = spec.replace("{d}", d)
        if text is not None:
            write_table(spec.split(":", 1)[1], text)
        specs.append(spec)
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write("proxy_read_maps = " + ", ".join(specs) + "\n")
    if start:
        m.start()
    return m, d


def test_moatctl_lookup_answers_from_the_running_stage(moat_factory):
    m, d = moat_with_tables(moat_factory, {
        "texthash:{d}/access": "# clients\nexample.com OK\nBad.Example REJECT go away\n",
        "static:FOUND-IT": None,
        "inline:{ a=1, b=2 }": None,
    })
    access = f"texthash:{d}/access"
    r = lookup(m, access, "example.com")
    assert (r.returncode, r.stdout) == (0, "OK\n"), r.stderr
    r = lookup(m, access, "BAD.EXAMPLE")          # indexed tables fold the key
    assert (r.returncode, r.stdout) == (0, "REJECT go away\n"), r.stderr
    r = lookup(m, access, "other.example")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "")
    assert lookup(m, "static:FOUND-IT", "anything").stdout == "FOUND-IT\n"
    assert lookup(m, "inline:{ a=1, b=2 }", "b").stdout == "2\n"
    # a table the configuration does not name is not opened on demand
    r = lookup(m, f"texthash:{d}/../../etc/main.cf", "x")
    assert r.returncode == 2 and "holds no table" in r.stderr
    m.wait_log(r"moat/lookup\[\d+\]: warning: moatctl\[\d+\] asked about table .*which the "
               r"configuration does not name")


def test_hash_and_btree_tables_built_by_postmap_and_moatmap_answer_from_the_stage(moat_factory):
    """Seen by the issue 8 bench: a hash: table killed the confined lookup
    stage (Berkeley DB counts the CPUs at every open, and glibc then asks
    sched_getaffinity), so moatd refused to start with any .db table."""
    m = moat_factory()
    d = table_dir(m)
    with open(os.path.join(d, "main.cf"), "w"):
        pass
    env = dict(os.environ, MAIL_CONFIG=d)
    specs = []
    for tool, kind in (("postmap", "hash"), ("moatmap", "hash"), ("postmap", "btree"),
                       ("moatmap", "btree")):
        src = os.path.join(d, f"{tool}-{kind}")
        with open(src, "w") as f:
            f.write("".join(f"user{i}@example.com REJECT {i}\n" for i in range(5000))
                    + f"sender.example {tool} {kind}\n")
        argv = (["/usr/sbin/postmap"] if tool == "postmap"
                else [os.path.join(m.build, "bin", "moatmap"), "-c", d])
        subprocess.run(argv + [f"{kind}:{src}"], env=env, check=True, timeout=120)
        specs.append(f"{kind}:{src}")
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write("proxy_read_maps = " + ", ".join(specs) + "\n")
    m.start()
    for spec in specs:
        tool, kind = os.path.basename(spec.split(":", 1)[1]).split("-")
        r = lookup(m, spec, "Sender.Example")
        assert (r.returncode, r.stdout) == (0, f"{tool} {kind}\n"), r.stderr + m.log()[-2000:]
        assert lookup(m, spec, "user4999@example.com").stdout == "REJECT 4999\n"
        assert lookup(m, spec, "user5000@example.com").returncode == 1
    assert "killed by seccomp" not in m.log()


def test_table_changed_on_disk_gives_the_new_answer_without_reload(moat_factory):
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/transport": "example.com smtp:[10.0.0.1]\n"})
    table = f"texthash:{d}/transport"
    assert lookup(m, table, "example.com").stdout == "smtp:[10.0.0.1]\n"
    before = lookup_pid(m)
    write_table(f"{d}/transport", "example.com smtp:[10.0.0.2]\n")
    m.wait_log(re.escape(f"table {table} has changed -- restarting"))
    wait_answer(m, table, "example.com", "smtp:[10.0.0.2]")
    assert "reload" not in m.log()
    deadline = time.time() + 20
    while pid_alive(before) and time.time() < deadline:
        time.sleep(0.1)
    assert not pid_alive(before), "the old lookup process kept running"


def test_table_edited_in_place_is_noticed(moat_factory):
    """An editor that rewrites the file in place: same inode, new size and mtime."""
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/t": "k old\n"})
    with open(f"{d}/t", "w") as f:
        f.write("k new-value\n")
    wait_answer(m, f"texthash:{d}/t", "k", "new-value")


def test_reload_reopens_every_table(moat_factory):
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/one": "k one\n"})
    before = lookup_pid(m)
    write_table(f"{d}/two", "k two\n")
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"proxy_read_maps = texthash:{d}/one, texthash:{d}/two\n")
    m.ctl("reload")
    wait_answer(m, f"texthash:{d}/two", "k", "two")
    assert lookup(m, f"texthash:{d}/one", "k").stdout == "one\n"
    assert lookup_pid(m) != before


def start_fails(m):
    m.start(wait=False)
    try:
        m.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise AssertionError("moatd started with a broken table:\n" + m.log())
    assert m.proc.returncode != 0
    assert not [p for p, s in m.stage_pids().items()], "a stage was forked before the check"
    return m.read_stderr()


def test_missing_table_stops_start_with_file_and_main_cf_line(moat_factory):
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/absent": None}, start=False)
    err = start_fails(m)
    assert re.search(r"main\.cf:\d+: proxy_read_maps: table texthash:\S+/absent: \S+/absent: "
                     r"No such file or directory", err), err


def test_unreadable_table_stops_start(moat_factory):
    """A file root reads only by overriding its mode: the broker keeps no such
    capability once started, so the lookup stage could never get it."""
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/secret": "k v\n"}, start=False)
    os.chmod(f"{d}/secret", 0)
    err = start_fails(m)
    assert re.search(r"main\.cf:\d+: proxy_read_maps: table texthash:\S+/secret: \S+/secret: "
                     r"Permission denied", err), err


def test_table_parse_error_stops_start_with_its_line(moat_factory):
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/bad": "# ok\ngood value\nlonely\n"},
                            start=False)
    err = start_fails(m)
    # the table's file and line (from the confined check), and the main.cf line naming it
    assert re.search(r"main\.cf:\d+: proxy_read_maps: table texthash:\S+/bad: .*bad, line 3", err), err


def test_reload_with_a_broken_table_is_refused_and_the_old_tables_stay(moat_factory):
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/one": "k one\n"})
    before = lookup_pid(m)
    write_table(f"{d}/bad", "lonely\n")
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(f"proxy_read_maps = texthash:{d}/one, texthash:{d}/bad\n")
    r = m.ctl("reload", check=False)
    assert r.returncode != 0 and "bad, line 1" in r.stderr and "reload refused" in r.stderr, r.stderr
    assert lookup(m, f"texthash:{d}/one", "k").stdout == "one\n"
    assert lookup_pid(m) == before


def test_table_broken_under_a_running_stage_fails_lookups_without_a_crash_loop(moat_factory):
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/t": "k v\n"})
    write_table(f"{d}/t", "k v\nlonely\n")
    m.wait_log(r"has changed -- restarting")
    m.wait_log(r"moat/lookup\[\d+\]: error: \S*main\.cf:\d+: proxy_read_maps: table texthash:\S+/t: "
               r".*line 2")
    deadline = time.time() + 30
    while time.time() < deadline:
        r = lookup(m, f"texthash:{d}/t", "k")
        if r.returncode == 2 and "lookup failed" in r.stderr:
            break
        time.sleep(0.2)
    assert r.returncode == 2 and "lookup failed" in r.stderr, r.stdout + r.stderr
    pid = lookup_pid(m)
    time.sleep(3)
    assert pid_alive(pid) and "quick death" not in m.log()
    write_table(f"{d}/t", "k fixed\n")
    wait_answer(m, f"texthash:{d}/t", "k", "fixed")


def test_killed_lookup_restarts_and_a_stage_client_reconnects(moat_factory):
    """cleanup (test build) asks through the client API twice a second: after
    the lookup stage is killed and restarted, the same client gets answers
    from the new process on a channel it asked the broker for."""
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/t": "k first\n"}, build=HOOKS_BUILD,
                            start=False)
    m.env["MOAT_TEST_ATTACK"] = f"cleanup:lookup-loop=texthash:{d}/t=k"
    m.start()
    m.wait_log(r"moat/cleanup\[\d+\]: lookup-loop answer 0 first")
    old = lookup_pid(m)
    os.kill(old, signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline:
        new = [p for p, s in m.stage_pids().items() if s == "lookup" and p != old]
        if new:
            break
        time.sleep(0.1)
    assert new, "the lookup stage was not restarted:\n" + m.log()
    write_table(f"{d}/t", "k second\n")
    m.wait_log(r"moat/cleanup\[\d+\]: lookup-loop answer 0 second", timeout=40)
    assert "killing cleanup" not in m.log()


@pytest.mark.parametrize("action,why", [
    ("lookup-notable", None),
    ("lookup-hugekey", "field 'key': length 110001 > max 110000"),
    ("lookup-garbage", "unknown message type"),
    ("lookup-order", "lookup query with order 99"),
])
def test_hostile_lookup_client_cannot_hurt_the_lookup_stage(moat_factory, action, why):
    m, d = moat_with_tables(moat_factory, {"texthash:{d}/t": "k v\n"}, build=HOOKS_BUILD,
                            start=False)
    m.env["MOAT_TEST_ATTACK"] = f"cleanup:{action}"
    m.start()
    first = lookup_pid(m)
    if why is None:
        # well-formed: an error reply, the channel stays, nobody is killed
        m.wait_log(rf"cleanup pid \d+: test: attack {action}: failed: No such file or directory")
        assert "killing" not in m.log()
    else:
        # the lookup stage cut the channel and reported the client, which the broker killed
        m.wait_log(r"lookup pid \d+ reports protocol violation by cleanup pid \d+: .*"
                   + re.escape(why))
        m.wait_log(r"killing cleanup pid \d+: protocol violation")
    assert not re.search(r"process moat-lookup pid \d+ (killed|exit)", m.log()), m.log()
    m.wait_ready(timeout=60)
    assert lookup_pid(m) == first
    assert lookup(m, f"texthash:{d}/t", "k").stdout == "v\n"


def test_lookup_orders_and_table_lists_as_postfix(moat_factory):
    m, d = moat_with_tables(moat_factory, {
        "texthash:{d}/access": "example.com DOMAIN\nuser@ OWNER\n192.0.2 NET\n",
        "texthash:{d}/transport": "sub.example.net relay:[10.0.0.9]\n* smtp:[10.0.0.1]\n",
        "texthash:{d}/virtual": "@example.org catchall@inside.test\nroot OPERATOR\n",
        "pcre:{d}/headers": "/^subject:.*viagra/ REJECT no thanks\n",
    })
    acc, tr, virt, pcre = (f"texthash:{d}/access", f"texthash:{d}/transport",
                           f"texthash:{d}/virtual", f"pcre:{d}/headers")
    # access(5): the domain of an address, then user@ for any domain
    r = lookup(m, acc, "someone@example.com", "access")
    assert (r.stdout, r.stderr) == ("DOMAIN\n", "matched example.com\n")
    assert lookup(m, acc, "user+tag@elsewhere.test", "access", "+").stdout == "OWNER\n"
    # a parent domain matches as ".example.com" only: "example.com" is not a parent entry
    assert lookup(m, acc, "host.example.com", "domain").returncode == 1
    assert lookup(m, acc, "host.example.com", "parent").stdout == "DOMAIN\n"
    assert lookup(m, acc, "192.0.2.77", "netaddr").stdout == "NET\n"
    # transport(5): parents of the domain, then "*"
    assert lookup(m, tr, "a@sub.example.net", "transport").stdout == "relay:[10.0.0.9]\n"
    r = lookup(m, tr, "a@other.test", "transport")
    assert (r.stdout, r.stderr) == ("smtp:[10.0.0.1]\n", "matched *\n")
    # virtual(5): @domain; a bare user only for a local domain
    assert lookup(m, virt, "x@example.org", "rewrite").stdout == "catchall@inside.test\n"
    assert lookup(m, virt, "root@mx.test.example", "rewrite").returncode == 1
    assert lookup(m, virt, "root@mx.test.example", "local").stdout == "OPERATOR\n"
    # a parameter's list: every table for one key before the next key
    assert lookup(m, f"{virt}\n{acc}", "x@example.com", "access").stdout == "DOMAIN\n"
    assert lookup(m, f"{virt}\ntexthash:/not/named", "k").returncode == 2
    # pcre: whole key, case-insensitive
    assert lookup(m, pcre, "Subject: cheap VIAGRA").stdout == "REJECT no thanks\n"
    assert lookup(m, pcre, "Subject: hello").returncode == 1


def test_pcre_syntax_error_stops_start_with_its_line(moat_factory):
    m, d = moat_with_tables(moat_factory, {"pcre:{d}/hc": "/^ok/ DUNNO\n/(unclosed/ REJECT\n"},
                            start=False)
    err = start_fails(m)
    assert re.search(r"main\.cf:\d+: proxy_read_maps: table pcre:\S+/hc: .*hc, line 2", err), err


def test_broker_links_no_table_code():
    """moatd asks maps/ only which files a spec names: no table parser, no
    Berkeley DB and no PCRE2 in the root process; the lookup stage has them."""
    from conftest import BUILD
    moatd = subprocess.run(["ldd", os.path.join(BUILD, "bin", "moatd")],
                           capture_output=True, text=True, check=True).stdout
    lookup = subprocess.run(["ldd", os.path.join(BUILD, "bin", "moat-lookup")],
                            capture_output=True, text=True, check=True).stdout
    assert "libdb" not in moatd and "libpcre2" not in moatd, moatd
    assert "libdb" in lookup and "libpcre2" in lookup, lookup
    syms = subprocess.run(["nm", os.path.join(BUILD, "bin", "moatd")],
                          capture_output=True, text=True, check=True).stdout
    assert "map_open" not in syms and "map_files" in syms
