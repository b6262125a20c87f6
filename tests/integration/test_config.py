"""Honest configuration: moatd checks the whole configuration before it forks
anything, refuses what it cannot honour (fail-closed parameters, unknown
restrictions, open relays) naming file and line, and the smtpd options of
main.cf have the effect they promise.

Each refusal test once ran against the old code, where moatd said "daemon
started", returned 0 and let a stage die in a loop (or warned and sent
mail in cleartext).
"""
import os
import re
import signal
import subprocess

import pytest

import test_smtpd
from test_header_checks import wait_until


MASTER = ("{port} inet n - y - 4 smtpd\n"
          "cleanup unix n - y - 4 cleanup\n"
          "log unix - - y - 1 log\n")
BASE = ("smtpd_error_sleep_time = 0\n"
        "relay_domains = relay.example\n"
        "mynetworks = 10.0.0.0/8\n")


def make(moat_factory, extra="", master=None):
    m = moat_factory(main_cf_extra=BASE + extra, master_cf=None)
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write((master or MASTER).format(port=f"127.0.0.1:{m.port}"))
    return m


def line_of(m, text, name="main.cf"):
    with open(os.path.join(m.confdir, name)) as f:
        return [x.rstrip("\n") for x in f].index(text) + 1


def refused(m):
    """moatd exits non-zero before forking anything; its stderr."""
    m.start(wait=False)
    assert m.proc.wait(timeout=30) != 0
    err = m.read_stderr()
    assert "daemon started" not in err, err
    assert not os.path.exists(m.maillog) or "daemon started" not in m.log()
    return err


class Client(test_smtpd.Client):
    """A raw SMTP client whose replies are lists of lines (footers span lines)."""

    def __init__(self, port):
        super().__init__(port, greet=False)
        self.greeting = self.reply()

    def reply(self):
        return [line.decode() for line in self.reply_lines()]


def open_mail(m):
    """A client past EHLO and MAIL FROM."""
    c = Client(m.port)
    c.cmd("EHLO client.example")
    c.cmd("MAIL FROM:<s@b.example>")
    return c


def code(lines):
    return int(lines[-1][:3])


# --- 3. fail closed: what moat cannot honour stops start-up ----------------

FAIL_CLOSED = [
    "smtp_tls_wrappermode = yes",
    "lmtp_tls_security_level = verify",
    "smtpd_tls_auth_only = yes",
    "smtpd_tls_req_ccert = yes",
    "smtp_tls_policy_maps = hash:/etc/moat/tls_policy",
    "smtpd_milters = inet:127.0.0.1:8891",
    "content_filter = amavis:[127.0.0.1]:10024",
    "smtpd_sender_login_maps = hash:/etc/moat/logins",
]


@pytest.mark.parametrize("setting", FAIL_CLOSED)
def test_fail_closed_setting_stops_startup(moat_factory, setting):
    m = make(moat_factory, extra=setting + "\n")
    err = refused(m)
    name = setting.split(" = ")[0]
    n = line_of(m, setting)
    assert re.search(rf"main\.cf:{n}: parameter {name} = .*not implemented by moat, and moat "
                     r"will not run without what it asks for", err), err


def test_fail_closed_through_a_macro(moat_factory):
    m = make(moat_factory, extra="pw = regexp:/etc/moat/h\nsmtp_sasl_password_maps = $pw\n")
    err = refused(m)
    assert re.search(rf"main\.cf:{line_of(m, 'smtp_sasl_password_maps = $pw')}: parameter smtp_sasl_password_maps "
                     r"= regexp:/etc/moat/h: not implemented", err), err


def test_fail_closed_in_a_master_cf_override(moat_factory):
    master = MASTER + "relay unix - - y - 4 smtp -o lmtp_tls_security_level=secure\n"
    m = make(moat_factory, master=master)
    err = refused(m)
    assert re.search(r"master\.cf:4: parameter lmtp_tls_security_level = secure: not implemented",
                     err), err


@pytest.mark.parametrize("setting", ["lmtp_tls_security_level = may",
                                     "smtpd_tls_req_ccert = no",
                                     "smtpd_tls_auth_only = no", "smtp_sasl_password_maps ="])
def test_safe_value_of_unimplemented_parameter_warns(moat_factory, setting):
    m = make(moat_factory, extra=setting + "\n").start()
    name = setting.split(" =")[0]
    assert re.search(rf"main\.cf:{line_of(m, setting)}: parameter {name} is not implemented by "
                     r"moat; ignored", m.read_stderr() + m.log())


# --- 4. moatd checks everything before it forks ---------------------------

def test_unsupported_restriction_stops_moatd_with_file_and_line(moat_factory):
    # seen: "daemon started", exit 0, smtpd dying in a loop behind it
    setting = "smtpd_recipient_restrictions = permit_mynetworks, reject_rbl_client_zen.example"
    m = make(moat_factory, extra=setting + "\n")
    err = refused(m)
    assert re.search(rf"main\.cf:{line_of(m, setting)}: parameter smtpd_recipient_restrictions: "
                     r"unknown or unsupported restriction \"reject_rbl_client_zen\.example\"",
                     err), err


def test_access_table_restriction_stops_moatd(moat_factory):
    # an access table nobody can serve (no lookup service in this master.cf)
    setting = "smtpd_client_restrictions = check_client_access hash:/etc/moat/access"
    m = make(moat_factory, extra=setting + "\n")
    err = refused(m)
    assert re.search(rf"main\.cf:{line_of(m, setting)}: smtpd_client_restrictions: table "
                     r"hash:/etc/moat/access: master.cf runs no lookup service", err), err


def test_daemon_mode_also_refuses_before_forking(moat_factory):
    # seen: moatd without -f returned 0 and the stages crash-looped
    setting = "smtpd_relay_restrictions = permit_mynetworks, bogus_restriction"
    m = make(moat_factory, extra=setting + "\n")
    r = subprocess.run([f"{m.build}/bin/moatd", "-c", m.confdir], capture_output=True, text=True,
                       timeout=30, env=m.env)
    assert r.returncode != 0
    assert re.search(rf"main\.cf:{line_of(m, setting)}: parameter smtpd_relay_restrictions", r.stderr)
    assert not os.path.exists(os.path.join(m.queue, "pid", "moatd.pid"))


def test_override_checked_as_its_stage_reads_it(moat_factory):
    # main.cf is fine; one smtpd service's -o makes it an open relay
    master = MASTER + "127.0.0.1:{port2} inet n - y - 4 smtpd -o smtpd_relay_restrictions=permit\n"
    m = make(moat_factory, master=master.replace("{port2}", "1"))
    err = refused(m)
    assert re.search(r"master\.cf:4: parameter smtpd_relay_restrictions: .*open relay", err), err


def test_bad_mynetworks_and_domain_lists_stop_moatd(moat_factory):
    m = make(moat_factory, extra="mynetworks = 10.0.0.0/8, 300.1.2.3\n")
    err = refused(m)
    # the later definition wins, as in Postfix
    assert re.search(rf"main\.cf:{line_of(m, 'mynetworks = 10.0.0.0/8, 300.1.2.3')}: parameter "
                     r"mynetworks: \"300\.1\.2\.3\": not an IP address", err), err
    # tables are served by the lookup stage (test_access.py); a file is read by no one
    m2 = make(moat_factory, extra="relay_domains = /etc/moat/relay\n")
    err = refused(m2)
    assert re.search(r"relay_domains: .*/etc/moat/relay.*not supported", err), err


def test_qmgr_routes_checked_before_forking(moat_factory):
    master = MASTER + "qmgr unix n - y 300 1 qmgr\n"
    m = make(moat_factory, extra="default_transport = bad transport!\n", master=master)
    err = refused(m)
    assert re.search(rf"main\.cf:{line_of(m, 'default_transport = bad transport!')}: parameter "
                     r"default_transport: .*not a transport name", err), err


def test_reload_with_bad_configuration_keeps_the_running_one(moat_factory):
    m = make(moat_factory).start()
    before = set(m.stage_pids())
    path = os.path.join(m.confdir, "main.cf")
    with open(path, "a") as f:
        f.write("smtpd_relay_restrictions = permit\n")
    n = line_of(m, "smtpd_relay_restrictions = permit")
    r = m.ctl("reload", check=False)
    # seen: "reloaded: generation 1", exit 0, and new smtpd processes dying
    assert r.returncode != 0, r.stdout
    assert re.search(rf"main\.cf:{n}: parameter smtpd_relay_restrictions: .*open relay", r.stderr), r
    assert "the running configuration stays" in r.stderr
    m.proc.send_signal(signal.SIGHUP)
    m.wait_log(rf"error: reload: \S*main\.cf:{n}: parameter smtpd_relay_restrictions")
    assert m.proc.poll() is None
    assert "generation 0" in m.ctl("status").stdout
    assert before <= set(m.stage_pids())
    c = open_mail(m)
    assert code(c.cmd("RCPT TO:<x@elsewhere.example>")) == 554     # still closed
    c.close()


BAD_MASTER_LINES = [
    ("bounce unix n - y - 1 bouncer", r'service bounce: unknown stage program "bouncer"'),
    ("bounce unix n - y - 1 bounce -v", r'service bounce: unexpected argument "-v"'),
    ("bounce unix n - y - 1 screen", r'service bounce: unknown stage program "screen"'),
    ("9 unix n - y - 1 smtpd", r"service 9: smtpd needs an inet service"),
    ("127.0.0.1:9 inet n - y - 1 cleanup", r"inet service 127\.0\.0\.1:9 runs cleanup, which serves no client"),
]


@pytest.mark.parametrize("line,why", BAD_MASTER_LINES)
def test_reload_with_bad_master_line_keeps_the_running_one(moat_factory, line, why):
    """Seen: the start-up check passed, then the broker's own master.cf
    reading called msg_fatal inside the reload: moatd and every stage gone."""
    m = make(moat_factory).start()
    with open(os.path.join(m.confdir, "master.cf"), "a") as f:
        f.write(line + "\n")
    n = line_of(m, line, "master.cf")
    r = m.ctl("reload", check=False)
    assert r.returncode != 0, r.stdout
    assert re.search(rf"master\.cf:{n}: {why}", r.stderr), r.stderr
    assert m.proc.poll() is None
    assert "generation 0" in m.ctl("status").stdout
    c = open_mail(m)
    assert code(c.cmd("RCPT TO:<x@relay.example>")) == 250
    c.close()


def test_bad_master_line_stops_start_up(moat_factory):
    m = make(moat_factory, master=MASTER + "bounce unix n - y - 1 bouncer\n")
    err = refused(m)
    assert re.search(r'master\.cf:4: service bounce: unknown stage program "bouncer"', err), err


def test_bad_screen_setting_stops_start_up(moat_factory):
    """Seen: smtpd_client_event_limit_exceptions = example.com passed the
    check, moatd said "daemon started", and screen died on start in a loop."""
    m = make(moat_factory, extra="smtpd_client_event_limit_exceptions = example.com\n")
    err = refused(m)
    n = line_of(m, "smtpd_client_event_limit_exceptions = example.com")
    assert re.search(rf"main\.cf:{n}: parameter smtpd_client_event_limit_exceptions: .*example\.com", err), err


def test_service_name_expands_in_the_stage(moat_factory):
    # seen: moatd checked $service_name, but the stage never set it (empty)
    master = MASTER.replace("4 smtpd", "4 smtpd -o smtpd_banner=$service_name/$process_name")
    m = make(moat_factory, master=master).start()
    c = Client(m.port)
    # screen greets, as Postfix's postscreen does: the inet line's -o reach it too
    assert c.greeting == [f"220 127.0.0.1:{m.port}/screen"]
    c.close()


# --- 5. no open relay ------------------------------------------------------

OPEN_RELAY = [
    ("smtpd_relay_restrictions = permit", "smtpd_relay_restrictions accepts it at \"permit\""),
    ("smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, reject_non_fqdn_recipient",
     "no restriction list rejects it"),
    ("smtpd_relay_restrictions = permit_mynetworks, permit, reject_unauth_destination",
     "accepts it at \"permit\""),
    ("smtpd_relay_restrictions = warn_if_reject reject_unauth_destination",
     "no restriction list rejects it"),
]


@pytest.mark.parametrize("settings,why", OPEN_RELAY)
def test_open_relay_restrictions_refused(moat_factory, settings, why):
    m = make(moat_factory, extra=settings + "\n")
    err = refused(m)
    assert "a client outside mynetworks that has not authenticated could send mail to any " \
           "domain (an open relay)" in err, err
    assert why in err, err


@pytest.mark.parametrize("nets", ["0.0.0.0/0", "::/0", "0.0.0.0/1, 128.0.0.0/1",
                                  "[2000::]/3", "16.0.0.0/6"])
def test_mynetworks_covering_the_internet_refused(moat_factory, nets):
    m = make(moat_factory, extra=f"mynetworks = {nets}\n")
    err = refused(m)
    assert re.search(rf"main\.cf:{line_of(m, 'mynetworks = ' + nets)}: parameter mynetworks: it "
                     r"trusts .* public IPv[46] addresses, more than the largest block", err), err


def test_private_and_site_networks_accepted(moat_factory):
    m = make(moat_factory, extra="mynetworks = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, "
                                 "100.64.0.0/10, 17.0.0.0/8, [2001:db8::]/32, [fd00::]/8\n").start()
    assert m.proc.poll() is None


def test_classic_postfix_relay_control_accepted(moat_factory):
    # Postfix before 2.10: relay control in smtpd_recipient_restrictions
    m = make(moat_factory, extra="smtpd_relay_restrictions =\n"
                                 "smtpd_recipient_restrictions = permit_mynetworks, "
                                 "reject_unauth_destination\n").start()
    c = open_mail(m)
    assert code(c.cmd("RCPT TO:<x@elsewhere.example>")) == 554
    c.close()


def test_open_relay_acknowledged(moat_factory):
    m = make(moat_factory, extra="smtpd_relay_restrictions = permit\n"
                                 "smtpd_open_relay_acknowledged = yes\n").start()
    assert "open relay" in m.read_stderr() + m.log()
    c = open_mail(m)
    assert code(c.cmd("RCPT TO:<x@elsewhere.example>")) in (250, 451)   # relayed as asked
    c.close()


# --- 2. smtpd options that now act -----------------------------------------

def test_proxy_interfaces_make_address_literals_local(moat_factory):
    m = make(moat_factory).start()
    c = open_mail(m)
    assert code(c.cmd("RCPT TO:<x@[203.0.113.22]>")) == 554         # someone else's: relay
    c.close()
    m2 = make(moat_factory, extra="proxy_interfaces = 203.0.113.22\n").start()
    c = open_mail(m2)
    r = c.cmd("RCPT TO:<x@[203.0.113.22]>")
    assert code(r) == 550 and "local delivery is not supported" in r[-1], r
    c.close()


def test_proxy_interfaces_takes_addresses_only(moat_factory):
    m = make(moat_factory, extra="proxy_interfaces = nat.example.com\n")
    assert re.search(r"parameter proxy_interfaces: \"nat\.example\.com\": not an IP address",
                     refused(m))


def test_compatibility_level(moat_factory):
    m = make(moat_factory, extra="compatibility_level = 2\n").start()
    assert re.search(rf"main\.cf:{line_of(m, 'compatibility_level = 2')}: compatibility_level = 2: "
                     r"moat has the defaults of Postfix level 3\.6", m.read_stderr() + m.log())
    m2 = make(moat_factory, extra="compatibility_level = 3.6\n").start()
    assert "compatibility_level" not in m2.read_stderr() + m2.log()
    m3 = make(moat_factory, extra="compatibility_level = three\n")
    assert "parameter compatibility_level: bad level \"three\"" in refused(m3)


def test_mail_version_logged_at_start(moat_factory):
    m = make(moat_factory).start()
    m.wait_log(r"daemon started -- version 0\.1, configuration ")


def test_debug_peer_list(moat_factory):
    m = make(moat_factory, extra="debug_peer_list = 192.0.2.0/24, 127.0.0.1\n").start()
    c = Client(m.port)
    c.cmd("EHLO client.example")
    c.cmd("QUIT")
    c.close()
    m.wait_log(r"smtpd\[\d+\]: < unknown\[127\.0\.0\.1\]: EHLO client\.example")
    m.wait_log(r"smtpd\[\d+\]: > unknown\[127\.0\.0\.1\]: 250-mx\.test\.example")
    m2 = make(moat_factory, extra="debug_peer_list = 192.0.2.0/24, !127.0.0.1, 127.0.0.0/8\n").start()
    c = Client(m2.port)
    c.cmd("EHLO client.example")
    c.cmd("QUIT")
    c.close()
    m2.wait_log(r"disconnect from unknown\[127\.0\.0\.1\]")
    assert "< unknown[127.0.0.1]" not in m2.log()


def test_end_of_data_restrictions(moat_factory):
    m = make(moat_factory, extra="smtpd_end_of_data_restrictions = permit_mynetworks, reject\n").start()
    c = open_mail(m)
    r = c.cmd("RCPT TO:<x@relay.example>")
    if code(r) != 250:
        pytest.skip(f"cleanup cannot take a message: {r}")
    assert code(c.cmd("DATA")) == 354
    r = c.cmd("Subject: t\r\n\r\nbody\r\n.")
    assert r == ["554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied"], r
    assert code(c.cmd("NOOP")) == 250
    c.close()
    m.wait_log(r"reject: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 "
               r"<END-OF-MESSAGE>: End-of-data rejected: Access denied; from=<s@b\.example>")
    # cleanup removes the refused message's file after smtpd's answer
    wait_until(lambda: all(os.listdir(os.path.join(m.queue, d)) == []
                           for d in ("incoming", "active", "deferred", "hold")),
               "the refused message stays in the queue")


def test_noop_commands(moat_factory):
    m = make(moat_factory).start()
    c = Client(m.port)
    c.cmd("EHLO client.example")
    assert code(c.cmd("ETRN example.com")) == 502
    c.close()
    m2 = make(moat_factory, extra="smtpd_noop_commands = etrn, XYZZY\n").start()
    c = Client(m2.port)
    c.cmd("EHLO client.example")
    assert c.cmd("ETRN example.com") == ["250 2.0.0 Ok"]
    assert c.cmd("xyzzy ! anything <at all>") == ["250 2.0.0 Ok"]
    c.close()


def test_discard_ehlo_keywords(moat_factory):
    m = make(moat_factory, extra="smtpd_discard_ehlo_keywords = pipelining, Size\n").start()
    c = Client(m.port)
    r = c.cmd("EHLO client.example")
    assert r == ["250-mx.test.example", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250 SMTPUTF8"]
    c.close()
    m.wait_log(r"discarding EHLO keywords: PIPELINING SIZE")
    m2 = make(moat_factory, extra="smtpd_discard_ehlo_keywords = silent-discard, pipelining, "
                                  "size, 8bitmime, enhancedstatuscodes, smtputf8\n").start()
    c = Client(m2.port)
    assert c.cmd("EHLO client.example") == ["250 mx.test.example"]
    c.cmd("QUIT")
    c.close()
    m2.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 quit=1")
    assert "discarding EHLO keywords" not in m2.log()


def test_reject_footer(moat_factory):
    footer = r"\c. Call $server_name about $client_address:$client_port, $localtime\nthanks $$1"
    m = make(moat_factory, extra=f"smtpd_reject_footer = {footer}\n").start()
    c = open_mail(m)
    port = c.s.getsockname()[1]

    r = c.cmd("RCPT TO:<x@elsewhere.example>")
    assert len(r) == 2, r
    assert re.fullmatch(rf"554-5\.7\.1 <x@elsewhere\.example>: Relay access denied\. Call "
                        rf"mx\.test\.example about 127\.0\.0\.1:{port}, [A-Z][a-z][a-z] [ 0-9]\d "
                        r"\d\d:\d\d:\d\d", r[0]), r
    assert r[1] == "554 5.7.1 thanks $1"
    assert c.cmd("NOOP") == ["250 2.0.0 Ok"]     # 2xx replies carry no footer
    r = c.cmd("BOGUS")
    assert r[0] == "502-5.5.2 Error: command not recognized. Call mx.test.example about " \
                   f"127.0.0.1:{port}, " + r[0].split(", ")[-1], r
    c.close()
    # the footer is the client's, not the log's (as in Postfix)
    m.wait_log(r"reject: RCPT from unknown\[127\.0\.0\.1\]: 554 5\.7\.1 <x@elsewhere\.example>: "
               r"Relay access denied; from=")
    assert "Call mx.test.example" not in m.log()


def test_reject_footer_with_unknown_attribute_refused(moat_factory):
    m = make(moat_factory, extra="smtpd_reject_footer = mail $sender for help\n")
    assert re.search(r"parameter smtpd_reject_footer: \"\$sender for help\": the footer knows only",
                     refused(m))


def test_client_port_logging(moat_factory):
    m = make(moat_factory, extra="smtpd_client_port_logging = yes\n").start()
    c = open_mail(m)
    port = c.s.getsockname()[1]

    c.cmd("RCPT TO:<x@elsewhere.example>")
    c.cmd("QUIT")
    c.close()
    m.wait_log(rf"connect from unknown\[127\.0\.0\.1\]:{port}\n")
    m.wait_log(rf"reject: RCPT from unknown\[127\.0\.0\.1\]:{port}: 554")
    m.wait_log(rf"disconnect from unknown\[127\.0\.0\.1\]:{port} ehlo=1")
    m2 = make(moat_factory).start()
    c = Client(m2.port)
    c.cmd("QUIT")
    c.close()
    m2.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] quit=1")
    assert "[127.0.0.1]:" not in m2.log()


def test_mail_version_in_banner(moat_factory):
    m = make(moat_factory, extra="smtpd_banner = $myhostname ESMTP $mail_name ($mail_version)\n").start()
    assert Client(m.port).greeting == ["220 mx.test.example ESMTP moat (0.1)"]


def test_reply_codes(moat_factory):
    m = make(moat_factory, extra="relay_domains_reject_code = 550\n"
                                 "non_fqdn_reject_code = 505\n"
                                 "invalid_hostname_reject_code = 502\n"
                                 "smtpd_helo_restrictions = reject_invalid_helo_hostname, "
                                 "reject_non_fqdn_helo_hostname\n").start()
    c = open_mail(m)
    assert c.cmd("RCPT TO:<x@elsewhere.example>") == [
        "550 5.7.1 <x@elsewhere.example>: Relay access denied"]
    c.cmd("EHLO nodots")
    c.cmd("MAIL FROM:<s@b.example>")
    assert c.cmd("RCPT TO:<x@relay.example>") == [
        "505 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname"]
    c.cmd("EHLO bad_name.example")
    c.cmd("MAIL FROM:<s@b.example>")
    assert code(c.cmd("RCPT TO:<x@relay.example>")) == 502
    c.close()
    m2 = make(moat_factory, extra="defer_code = 451\nsmtpd_sender_restrictions = defer\n").start()
    c = open_mail(m2)
    assert c.cmd("RCPT TO:<x@relay.example>") == [
        "451 4.7.1 <s@b.example>: Sender address rejected: Access denied"]
    c.close()


def test_data_restrictions(moat_factory):
    m = make(moat_factory, extra="smtpd_data_restrictions = reject\n").start()
    c = open_mail(m)
    if code(c.cmd("RCPT TO:<x@relay.example>")) != 250:
        pytest.skip("cleanup cannot take a message")
    assert c.cmd("DATA") == ["554 5.7.1 <DATA>: Data command rejected: Access denied"]
    c.close()


def test_junk_command_limit(moat_factory):
    m = make(moat_factory, extra="smtpd_junk_command_limit = 2\nsmtpd_hard_error_limit = 3\n").start()
    c = Client(m.port)
    for _ in range(5):           # the 3rd, 4th and 5th NOOP are errors
        assert code(c.cmd("NOOP")) == 250
    r = c.reply()
    assert code(r) == 421 and "too many errors" in r[-1], r
    c.close()


def test_parent_domain_matches_subdomains(moat_factory):
    m = make(moat_factory).start()
    c = open_mail(m)
    assert code(c.cmd("RCPT TO:<x@sub.relay.example>")) != 554
    c.close()
    m2 = make(moat_factory, extra="parent_domain_matches_subdomains = debug_peer_list\n").start()
    c = open_mail(m2)
    assert code(c.cmd("RCPT TO:<x@sub.relay.example>")) == 554
    assert code(c.cmd("RCPT TO:<x@relay.example>")) != 554
    c.close()


def test_moatconf_check(moat_factory):
    m = make(moat_factory)
    conf = [f"{m.build}/bin/moatconf", "-c", m.confdir, "-C"]
    r = subprocess.run(conf, capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    with open(os.path.join(m.confdir, "master.cf"), "a") as f:
        f.write("2526 inet n - y - 4 smtpd -o smtpd_relay_restrictions=permit\n")
    r = subprocess.run(conf, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert re.search(r"moatconf: error: \S*master\.cf:4: parameter smtpd_relay_restrictions: .*open "
                     r"relay", r.stderr), r.stderr
