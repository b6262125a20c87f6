"""smtpd per-request deadlines: smtpd_timeout bounds a whole command line and
the DATA phase (extended by smtpd_min_data_rate), not each read, so a client
that trickles a byte at a time cannot hold a session past its timeout (seen:
trickling sessions still open at 70 s with smtpd_timeout = 20s).
smtpd_per_request_deadline = no restores the per-read timeout.
"""
import time

from test_smtpd import Client, cleanup_works, open_mail, start


def trickle(c, data, pause, budget):
    """Send data a chunk at a time, pausing between chunks, for at most
    budget seconds; 'closed' if the server hung up, else 'open'."""
    end = time.monotonic() + budget
    for chunk in data:
        if time.monotonic() > end:
            return "open"
        try:
            c.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return "closed"
        time.sleep(pause)
        c.s.setblocking(False)
        try:
            got = c.s.recv(4096)
            if got == b"":
                return "closed"
            c.buf += got
        except BlockingIOError:
            pass
        except ConnectionResetError:
            return "closed"
        finally:
            c.s.setblocking(True)
    return "open"


def test_trickled_command_cut_at_deadline(moat_factory):
    m = start(moat_factory, extra="smtpd_timeout = 3s\n")
    c = open_mail(m)
    # one byte every 0.4 s: each read is well inside smtpd_timeout, the line never is
    state = trickle(c, [b"R", b"C", b"P", b"T", b" "] + [b"x"] * 200, 0.4, 30)
    assert state == "closed", "a trickling client kept its session"
    assert b"421 4.4.2 mx.test.example Error: timeout exceeded" in c.buf, c.buf
    m.wait_log(r"timeout after MAIL from unknown\[127\.0\.0\.1\]")


def test_per_request_deadline_off_is_per_read(moat_factory):
    m = start(moat_factory, extra="smtpd_timeout = 2s\nsmtpd_per_request_deadline = no\n")
    c = open_mail(m)
    t0 = time.monotonic()
    assert trickle(c, [b"R", b"S", b"E", b"T"] * 3, 0.5, 30) == "open"
    assert time.monotonic() - t0 > 4     # twice smtpd_timeout, and still served
    assert c.cmd("\r\nNOOP")[0] in (500, 502)   # the trickled garbage, then a real command
    assert c.reply()[0] == 250


def data_ready(m):
    assert cleanup_works(m)
    c = open_mail(m)
    assert c.cmd("RCPT TO:<x@relay.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    return c


def test_trickled_data_cut_at_deadline(moat_factory):
    m = start(moat_factory, mynetworks="127.0.0.0/8",
              extra="smtpd_timeout = 3s\nsmtpd_min_data_rate = 1000\n")
    c = data_ready(m)
    # 20 bytes/s: each read buys 10 ms of a 3 s budget
    state = trickle(c, [b"Subject: slow\r\n"] + [b"0123456789"] * 200, 0.5, 30)
    assert state == "closed"
    m.wait_log(r"timeout after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.1\]")


def test_data_at_min_rate_outlives_timeout(moat_factory):
    m = start(moat_factory, mynetworks="127.0.0.0/8",
              extra="smtpd_timeout = 2s\nsmtpd_min_data_rate = 1000\n")
    c = data_ready(m)
    t0 = time.monotonic()
    # 8 KB every 0.5 s: each read buys 8 s, capped at smtpd_timeout from now
    line = b"x" * 1022 + b"\r\n"
    assert trickle(c, [b"Subject: steady\r\n\r\n"] + [line * 8] * 10, 0.5, 30) == "open"
    assert time.monotonic() - t0 > 4
    c.send(b".\r\n")
    code, text = c.reply()
    assert code == 250, text
