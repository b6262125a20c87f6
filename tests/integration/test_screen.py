"""screen: the stage in front of smtpd that holds every client until its
first command line, enforces Postfix's per-client limits, and hands clients
to a bounded pool of smtpd processes (stress values when the pool is full).

Seen before it existed: 100 idle connections gave a normal client no banner
within 50 s; 100 connections from one address all got 220.
"""
import os
import re
import select
import signal
import socket
import time

import pytest

from conftest import HOOKS_BUILD
from test_smtpd import Client

BASE = ("smtpd_error_sleep_time = 0\n"
        "relay_domains = relay.example\n")


def start(moat_factory, extra="", maxproc=4, mynetworks="10.0.0.0/8", build=None, env=None):
    kw = {"build": build} if build else {}
    m = moat_factory(main_cf_extra=BASE + (f"mynetworks = {mynetworks}\n" if mynetworks else "")
                     + extra, env_extra=env, **kw)
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(f"127.0.0.1:{m.port} inet n - y - {maxproc} smtpd\n"
                "cleanup unix n - y - 4 cleanup\n"
                "log unix - - y - 1 log\n")
    return m.start()


def connect(m, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", m.port), timeout=10, source_address=(source, 0))
    return s


def client(m, source="127.0.0.1"):
    c = Client.__new__(Client)
    c.s = connect(m, source)
    c.buf = b""
    c.greeting = c.reply()
    return c


def read_all(s):
    data = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def pids_of(m, stage):
    return [p for p, s in m.stage_pids().items() if s == stage]


def test_banner_while_idle_connections_exceed_maxproc(moat_factory):
    # seen: 100 idle connections gave a normal client no banner within 50 s
    m = start(moat_factory, maxproc=4, mynetworks=None)
    idle = [connect(m) for _ in range(40)]
    try:
        for s in idle:
            assert s.recv(4096).startswith(b"220 ")
        c = client(m)
        assert c.greeting[0] == 220
        assert c.cmd("EHLO client.example")[0] == 250
        assert c.cmd("QUIT")[0] == 221
        assert len(pids_of(m, "smtpd")) <= 4
    finally:
        for s in idle:
            s.close()


def test_connection_count_limit(moat_factory):
    # seen: 100 connections from one address all got 220
    m = start(moat_factory, "smtpd_client_connection_count_limit = 3\n")
    held = [client(m) for _ in range(2)]
    held.append(client(m))
    assert held[2].cmd("EHLO client.example")[0] == 250   # in an smtpd: still counted
    s = connect(m)
    data = read_all(s)
    assert data == b"421 4.7.0 mx.test.example Error: too many connections from 127.0.0.1\r\n", data
    m.wait_log(r"warning: Connection concurrency limit exceeded: 4 from unknown\[127\.0\.0\.1\] "
               rf"for service 127\.0\.0\.1:{m.port}")
    m.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] commands=0/0")
    assert held[2].cmd("QUIT")[0] == 221   # the session ends: the count goes down
    held[2].closed()
    deadline = time.time() + 10
    while True:
        c = client(m)
        if c.greeting[0] == 220 or time.time() > deadline:
            break
    assert c.greeting[0] == 220


def test_connection_rate_limit(moat_factory):
    m = start(moat_factory, "smtpd_client_connection_rate_limit = 3\nanvil_rate_time_unit = 3600s\n")
    for _ in range(3):
        c = client(m)
        assert c.greeting[0] == 220
        assert c.cmd("QUIT")[0] == 221
    s = connect(m)
    assert read_all(s).startswith(b"421 4.7.0 mx.test.example Error: too many connections from 127.0.0.1")
    m.wait_log(r"warning: Connection rate limit exceeded: 4 from unknown\[127\.0\.0\.1\] "
               rf"for service 127\.0\.0\.1:{m.port}")


def excepted_and_not(m, excepted, counted):
    """excepted opens three connections past a count limit of 1; counted
    gets its first and is refused its second."""
    many = [client(m, excepted) for _ in range(3)]
    assert all(c.greeting[0] == 220 for c in many)
    one = client(m, counted)
    assert one.greeting[0] == 220
    assert read_all(connect(m, counted)).startswith(b"421 4.7.0 ")


def test_limit_exceptions(moat_factory):
    m = start(moat_factory, "smtpd_client_connection_count_limit = 1\n"
              "smtpd_client_event_limit_exceptions = 127.0.0.2, 10.0.0.0/8\n")
    excepted_and_not(m, "127.0.0.2", "127.0.0.3")


def test_old_exceptions_name_empties_the_list_as_postfix_does(moat_factory):
    # the new name's default is ${smtpd_client_connection_limit_exceptions:$mynetworks}:
    # "$mynetworks if the old name is empty", so setting the old name leaves
    # no exception at all (Postfix 3.7's postconf -x shows the same)
    m = start(moat_factory, "smtpd_client_connection_count_limit = 1\n"
              "smtpd_client_connection_limit_exceptions = 127.0.0.2\n", mynetworks="127.0.0.0/8")
    for counted in ("127.0.0.2", "127.0.0.3"):          # neither listed nor in mynetworks counts
        one = client(m, counted)
        assert one.greeting[0] == 220
        assert read_all(connect(m, counted)).startswith(b"421 4.7.0 ")


def test_limit_exceptions_default_to_mynetworks(moat_factory):
    m = start(moat_factory, "smtpd_client_connection_count_limit = 1\n", mynetworks="127.0.0.4/32")
    excepted_and_not(m, "127.0.0.4", "127.0.0.5")


def test_limit_exceptions_default_to_computed_mynetworks(moat_factory):
    # mynetworks empty: computed (host style), which counts loopback
    m = start(moat_factory, "smtpd_client_connection_count_limit = 1\n", mynetworks=None)
    many = [client(m, "127.0.0.6") for _ in range(3)]
    assert all(c.greeting[0] == 220 for c in many)


def test_message_rate_limit_across_sessions(moat_factory):
    m = start(moat_factory, "smtpd_client_message_rate_limit = 2\nanvil_rate_time_unit = 3600s\n")
    a = client(m)
    a.cmd("EHLO client.example")
    assert a.cmd("MAIL FROM:<s@b.example>")[0] == 250
    a.cmd("RSET")
    b = client(m)
    b.cmd("EHLO client.example")
    assert b.cmd("MAIL FROM:<s@b.example>")[0] == 250
    b.cmd("RSET")
    assert a.cmd("MAIL FROM:<s@b.example>") == (450, "4.7.1 Error: too much mail from 127.0.0.1")
    m.wait_log(r"warning: Message delivery request rate limit exceeded: 3 from "
               rf"unknown\[127\.0\.0\.1\] for service 127\.0\.0\.1:{m.port}")
    other = client(m, "127.0.0.7")    # another client has its own count
    other.cmd("EHLO client.example")
    assert other.cmd("MAIL FROM:<s@b.example>")[0] == 250


def test_recipient_rate_limit(moat_factory):
    m = start(moat_factory, "smtpd_client_recipient_rate_limit = 2\nanvil_rate_time_unit = 3600s\n")
    c = client(m, "127.0.0.8")
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<s@b.example>")
    codes = [c.cmd(f"RCPT TO:<r{i}@relay.example>")[0] for i in range(3)]
    assert codes[2] == 450, codes
    m.wait_log(r"warning: Recipient address rate limit exceeded: 3 from unknown\[127\.0\.0\.8\] "
               rf"for service 127\.0\.0\.1:{m.port}")
    assert c.cmd("RCPT TO:<r9@relay.example>") == (450, "4.7.1 Error: too many recipients from 127.0.0.8")


def test_rate_limits_exempt_excepted_clients(moat_factory):
    m = start(moat_factory, "smtpd_client_message_rate_limit = 1\nanvil_rate_time_unit = 3600s\n",
              mynetworks="127.0.0.9/32")
    c = client(m, "127.0.0.9")
    c.cmd("EHLO client.example")
    for _ in range(3):
        assert c.cmd("MAIL FROM:<s@b.example>")[0] == 250
        c.cmd("RSET")


def test_stress_values_when_the_pool_is_full(moat_factory):
    m = start(moat_factory, "smtpd_timeout = ${stress?{3}:{300}}s\n", maxproc=1)
    a = client(m)
    assert a.cmd("EHLO a.example")[0] == 250            # takes the only smtpd
    assert a.cmd("BOGUS")[0] == 502                     # normal limits: one error is nothing
    assert a.cmd("NOOP")[0] == 250
    b = client(m)
    b.send("EHLO b.example\r\n")                        # ready, but no smtpd: waits in screen
    m.wait_log(rf'warning: service "127\.0\.0\.1:{m.port}" \(smtpd\) has reached its process '
               r'limit "1": new clients may experience noticeable delays')
    assert a.cmd("QUIT")[0] == 221
    assert b.reply()[0] == 250                          # handed over when a's session ended
    assert b.cmd("BOGUS")[0] == 502
    code, text = b.reply()                              # stress: smtpd_hard_error_limit = 1
    assert code == 421 and "too many errors" in text, (code, text)
    c = client(m)
    c.cmd("EHLO c.example")
    code, text = c.reply()                              # stress: smtpd_timeout = 3s
    assert code == 421 and "4.4.2" in text, (code, text)
    m.wait_log(r"timeout after EHLO from unknown\[127\.0\.0\.1\]")


def test_ready_clients_wait_then_give_up(moat_factory):
    m = start(moat_factory, "smtpd_timeout = ${stress?{2}:{300}}s\npostscreen_post_queue_limit = 1\n",
              maxproc=1)
    a = client(m)
    assert a.cmd("EHLO a.example")[0] == 250
    b = client(m)
    b.send("EHLO b.example\r\n")
    c = client(m)
    c.send("EHLO c.example\r\n")                        # the FIFO holds one: no room
    assert read_all(c.s) == b"421 4.3.2 All server ports are busy\r\n"
    assert read_all(b.s) == b"421 4.3.2 All server ports are busy\r\n"   # after 2 s
    m.wait_log(r"NOQUEUE: reject: CONNECT from unknown\[127\.0\.0\.1\]: all server ports busy")
    assert a.cmd("NOOP")[0] == 250                      # the session in smtpd is untouched


def test_trickling_first_line_cut_at_deadline(moat_factory):
    m = start(moat_factory, "smtpd_timeout = 3s\n")
    c = client(m)
    end = time.monotonic() + 30
    closed = False
    while time.monotonic() < end and not closed:
        try:
            c.send(b"E")
            time.sleep(0.4)
            c.s.setblocking(False)
            try:
                got = c.s.recv(4096)
                closed = got == b"" or b"421" in got
                c.buf += got
            except BlockingIOError:
                pass
            finally:
                c.s.setblocking(True)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    assert closed, "a trickling client kept its connection"
    m.wait_log(r"timeout after CONNECT from unknown\[127\.0\.0\.1\]")
    assert b"421 4.4.2 mx.test.example Error: timeout exceeded" in c.buf, c.buf


@pytest.mark.parametrize("attack,why", [
    ("screen-fd", None),
    ("screen-type", r"MSG_SCREEN_CONN"),
    ("screen-session", r"MSG_SCREEN_DONE for a session it does not have"),
])
def test_hostile_smtpd_cannot_hurt_screen(moat_factory, attack, why):
    m = start(moat_factory, build=HOOKS_BUILD, env={"MOAT_TEST_ATTACK": f"smtpd:{attack}"},
              mynetworks="127.0.0.0/8")
    (screen,) = pids_of(m, "screen")
    # screen takes a channel at start, so the first smtpd attacks before any client comes
    if why is None:
        # an fd toward screen cannot even be sent: SO_PASSRIGHTS is off on screen's end
        m.wait_log(r"smtpd\[\d+\]: warning: test: attack MSG_SCREEN_DONE: refused: Operation not permitted")
    else:
        mt = m.wait_log(r"screen pid \d+ reports protocol violation by smtpd pid (\d+): (.*)")
        assert re.search(why, mt.group(2)), mt.group(0)
        m.wait_log(rf"killing smtpd pid {mt.group(1)}: protocol violation")
    c = client(m)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("QUIT")[0] == 221
    assert pids_of(m, "screen") == [screen]


def test_screen_killed_is_restarted_and_listens(moat_factory):
    m = start(moat_factory, mynetworks="127.0.0.0/8")
    a = client(m)
    assert a.cmd("EHLO a.example")[0] == 250            # a session in an smtpd
    (screen,) = pids_of(m, "screen")
    os.kill(screen, signal.SIGKILL)
    m.wait_log(rf"process moat-screen pid {screen} killed by signal 9")
    deadline = time.time() + 15
    while time.time() < deadline:
        now = pids_of(m, "screen")
        if now and now != [screen]:
            break
        time.sleep(0.05)
    assert a.cmd("NOOP")[0] == 250                      # its smtpd session goes on
    assert a.cmd("QUIT")[0] == 221
    c = client(m)
    assert c.cmd("EHLO client.example")[0] == 250
    assert c.cmd("QUIT")[0] == 221


def test_maxproc_bounds_the_pool_and_the_fifo_serves_in_order(moat_factory):
    m = start(moat_factory, maxproc=2, mynetworks="127.0.0.0/8")
    a = client(m)
    assert a.cmd("EHLO a.example")[0] == 250
    waiting = [client(m) for _ in range(3)]
    for w in waiting:
        w.send("EHLO w.example\r\n")                    # one smtpd left: two must wait
    assert waiting[0].reply()[0] == 250
    time.sleep(0.5)
    assert len(pids_of(m, "smtpd")) == 2                # the line's maxproc, not more
    assert len(pids_of(m, "screen")) == 1
    for i, w in enumerate(waiting):
        if i > 0:
            assert w.reply()[0] == 250                  # its turn came
        assert w.cmd("QUIT")[0] == 221
    assert a.cmd("QUIT")[0] == 221


def test_reload_hands_held_clients_to_the_new_pool(moat_factory):
    m = start(moat_factory, maxproc=2, mynetworks="127.0.0.0/8")
    a = client(m)
    assert a.cmd("EHLO a.example")[0] == 250            # in an old smtpd
    b = client(m)                                       # greeted, held by the old screen
    (old_screen,) = pids_of(m, "screen")
    assert "generation 1" in m.ctl("reload").stdout
    assert b.cmd("EHLO b.example")[0] == 250            # the old screen hands it to the new pool
    assert a.cmd("NOOP")[0] == 250                      # the old session goes on
    assert a.cmd("QUIT")[0] == 221
    assert b.cmd("QUIT")[0] == 221
    c = client(m)                                       # the new screen listens
    assert c.cmd("EHLO c.example")[0] == 250
    assert c.cmd("QUIT")[0] == 221
    deadline = time.time() + 20
    while time.time() < deadline and old_screen in pids_of(m, "screen"):
        time.sleep(0.1)
    assert old_screen not in pids_of(m, "screen")       # it left once it held nobody


def test_dead_smtpd_ends_its_session_count(moat_factory):
    m = start(moat_factory, "smtpd_client_connection_count_limit = 1\n")
    a = client(m)
    assert a.cmd("EHLO a.example")[0] == 250            # counted, and in an smtpd
    assert read_all(connect(m)).startswith(b"421 4.7.0 ")
    served = [p for p in pids_of(m, "smtpd")
              if any(f"smtpd[{p}]: connect from" in l for l in m.log().splitlines())]
    assert len(served) == 1, m.log()
    os.kill(served[0], signal.SIGKILL)
    assert a.closed()
    deadline = time.time() + 10
    while True:                                         # its channel's end ended the count
        c = client(m)
        if c.greeting[0] == 220 or time.time() > deadline:
            break
        time.sleep(0.1)
    assert c.greeting[0] == 220


def test_master_cf_overrides_reach_screen_and_smtpd(moat_factory):
    m = moat_factory(main_cf_extra=BASE + "mynetworks = 10.0.0.0/8\n")
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(f"127.0.0.1:{m.port} inet n - y - 4 smtpd\n"
                "  -o smtpd_client_connection_count_limit=1\n"
                "  -o smtpd_hard_error_limit=1\n"
                "cleanup unix n - y - 4 cleanup\nlog unix - - y - 1 log\n")
    m.start()
    a = client(m)
    assert read_all(connect(m)).startswith(b"421 4.7.0 ")    # screen read the -o
    a.cmd("EHLO a.example")
    assert a.cmd("BOGUS")[0] == 502
    code, text = a.reply()                                   # smtpd read the -o
    assert code == 421 and "too many errors" in text


def test_out_of_fds_pauses_accepting_then_resumes(moat_factory):
    import resource
    m = moat_factory(main_cf_extra=BASE + "mynetworks = 10.0.0.0/8\n"
                     "smtpd_client_connection_count_limit = 0\n")
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(f"127.0.0.1:{m.port} inet n - y - 4 smtpd\n"
                "cleanup unix n - y - 4 cleanup\nlog unix - - y - 1 log\n")
    # every process of moat, screen included, gets at most 200 fds
    m.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
    m.start()
    held = [connect(m) for _ in range(260)]
    greeted = []
    deadline = time.time() + 5                          # banners for what screen could take
    while time.time() < deadline and len(greeted) < len(held):
        ready, _, _ = select.select([s for s in held if s not in greeted], [], [], 0.5)
        for s in ready:
            assert s.recv(512).startswith(b"220 ")
            greeted.append(s)
    waiting = [s for s in held if s not in greeted]     # in the listen queue
    assert waiting and len(greeted) < 200, (len(greeted), len(waiting))
    m.wait_log(r"warning: accept: Too many open files: \d+ clients held; not accepting for a second")
    for s in greeted[:100]:
        s.close()
    for s in waiting:
        s.settimeout(15)
        assert s.recv(512).startswith(b"220 ")          # accepted once fds were free
    c = client(m)
    assert c.cmd("EHLO c.example")[0] == 250
    for s in held:
        s.close()


def test_old_log_stage_serves_the_old_generation_to_its_end(moat_factory):
    # seen: after a reload the old log stage left at once, and lines the old
    # processes had sent it were lost (an smtpd whose warning then went
    # through a log reconnect also dropped the screen channel it got meanwhile)
    m = start(moat_factory, maxproc=2, mynetworks="127.0.0.0/8")
    a = client(m)
    assert a.cmd("EHLO a.example")[0] == 250            # a session in an old smtpd
    (old_log,) = pids_of(m, "log")
    assert "generation 1" in m.ctl("reload").stdout
    deadline = time.time() + 10
    while time.time() < deadline and len(pids_of(m, "log")) < 2:
        time.sleep(0.1)
    assert old_log in pids_of(m, "log")                 # still there for the old smtpd
    assert len(pids_of(m, "log")) == 2                  # and the new one for the new generation
    assert a.cmd("MAIL FROM:<old@generation.example>")[0] == 250
    assert a.cmd("QUIT")[0] == 221
    m.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 mail=1 quit=1|"
               r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1 quit=1")
    deadline = time.time() + 20
    while time.time() < deadline and old_log in pids_of(m, "log"):
        time.sleep(0.1)
    assert old_log not in pids_of(m, "log")             # and gone with the last of them


def test_smtpd_leaving_after_max_use_loses_no_client(moat_factory):
    # seen: the broker granted screen a channel to an smtpd that had just
    # decided to exit after max_use sessions; the client screen sent on it
    # went with the process ("lost connection while sending HELO", about one
    # smtp-source run in three with a connection per message). max_use = 1
    # makes every session end in that decision.
    import subprocess
    from mailpeers import RecordingSink
    from relayenv import FAST_RETRY, relay_main_cf
    with RecordingSink() as sink:
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY)
                         + "smtpd_peername_lookup = no\n")
        with open(os.path.join(m.confdir, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{m.port} inet n - y - 4 smtpd -o max_use=1\n"
                    "cleanup unix n - y - 4 cleanup\nqmgr unix n - y 300 1 qmgr\n"
                    "smtp unix - - y - 4 smtp\nlog unix - - y - 1 log\n")
        m.start()
        r = subprocess.run(["smtp-source", "-s", "8", "-m", "300", "-f", "a@sender.test",
                            "-t", "b@remote.test", f"127.0.0.1:{m.port}"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        sink.wait_count(300, timeout=120)
