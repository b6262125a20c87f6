"""check_client_access, check_helo_access, check_sender_access and
check_recipient_access: texthash access tables read by the lookup stage,
their answers applied as access(5) actions, with Postfix's lookup orders
(parent domains, client address prefixes, user@ keys, the null sender's
key), and a table the lookup stage cannot answer from deferring (451 4.3.5)
instead of being skipped."""
import os
import re
import smtplib
import subprocess

import pytest

from mailpeers import RecordingSink
from relayenv import FAST_RETRY, relay_main_cf, relay_master_cf, send
from test_header_checks import wait_until
from test_restrictions import rcpt


@pytest.fixture
def sink():
    with RecordingSink() as s:
        yield s


def start(moat_factory, sink, tables, main_cf, postmap=()):
    """moat relaying to sink with tables {name: text}; those in postmap are
    built into .db files by Debian's postmap."""
    m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY))
    for name, text in tables.items():
        path = os.path.join(m.confdir, name)
        with open(path, "w") as f:
            f.write(text)
        if name in postmap:
            pfconf = os.path.join(m.dir, "postfix")      # postmap wants a main.cf
            os.makedirs(pfconf, exist_ok=True)
            open(os.path.join(pfconf, "main.cf"), "a").close()
            subprocess.run(["/usr/sbin/postmap", "-c", pfconf, f"hash:{path}"], check=True,
                           timeout=30)
        main_cf = main_cf.replace("{" + name + "}", path)
    with open(os.path.join(m.confdir, "main.cf"), "a") as f:
        f.write(main_cf)
    with open(os.path.join(m.confdir, "master.cf"), "w") as f:
        f.write(relay_master_cf(m))
    return m.start()


def test_sender_and_recipient_access(moat_factory, sink):
    m = start(moat_factory, sink, {
        "senders": "spam.test REJECT no spam here\nboss@known.test OK\n"
                   "user@ 550 5.7.9 not you\n<> 554 no bounces\n",
        "rcpts": "abuse@known.test DEFER later please\n",
    }, "smtpd_recipient_restrictions = check_sender_access texthash:{senders}, "
       "check_recipient_access texthash:{rcpts}\n")
    code, msg = rcpt(m, sender="x@sub.spam.test")          # parent domain of the sender
    assert code == 554 and "no spam here" in msg, msg
    assert rcpt(m, sender="boss@known.test")[0] == 250
    code, msg = rcpt(m, sender="user@other.test")             # the user@ key
    assert (code, msg.split()[0]) == (550, "5.7.9"), msg
    code, msg = rcpt(m, sender="")                             # the null sender's key
    assert code == 554 and "no bounces" in msg, msg
    code, msg = rcpt(m, to="abuse@known.test")
    assert code == 450 and "later please" in msg, msg
    assert rcpt(m, sender="a@known.test")[0] == 250            # not listed: DUNNO


def test_client_and_helo_access(moat_factory, sink):
    m = start(moat_factory, sink, {
        "clients": "127.0.0.5 REJECT bad client\n127.0.0 DUNNO\n",
        "helos": "evil.test REJECT bad helo\n",
    }, "smtpd_recipient_restrictions = check_client_access texthash:{clients}, "
       "check_helo_access texthash:{helos}\n")
    code, msg = rcpt(m, source="127.0.0.5")
    assert code == 554 and "bad client" in msg, msg
    code, msg = rcpt(m, helo="mx.evil.test")
    assert code == 554 and "bad helo" in msg, msg
    assert rcpt(m, source="127.0.0.6")[0] == 250


def test_null_access_lookup_key(moat_factory, sink):
    m = start(moat_factory, sink, {"senders": "MAILER-DAEMON REJECT no bounces\n"},
              "smtpd_null_access_lookup_key = MAILER-DAEMON\n"
              "smtpd_recipient_restrictions = check_sender_access texthash:{senders}\n")
    code, msg = rcpt(m, sender="")
    assert code == 554 and "no bounces" in msg, msg


def test_table_that_cannot_answer_defers(moat_factory, sink):
    # a pcre pattern that backtracks past the match limit on this sender
    m = start(moat_factory, sink, {"senders": "/^(a+)+$/ OK\n"},
              "smtpd_recipient_restrictions = check_sender_access pcre:{senders}\n")
    code, msg = rcpt(m, sender="a" * 40 + "!@known.test")
    assert code == 451 and msg.startswith("4.3.5"), msg
    m.wait_log(r"warning: .*check_sender_access pcre:\S+: table lookup problem")


def test_ok_permits_and_reply_names_the_subject(moat_factory, sink):
    # Before: a table's OK was taken for "not found" and the list went on to reject.
    m = start(moat_factory, sink, {
        "senders": "boss@known.test OK\nspam.test REJECT no spam\n",
        "clients": "127.0.0.7 OK\n",
    }, "smtpd_recipient_restrictions = check_client_access texthash:{clients}, "
       "check_sender_access texthash:{senders}, reject\n")
    assert rcpt(m, sender="boss@known.test")[0] == 250
    assert rcpt(m, source="127.0.0.7", sender="x@other.test")[0] == 250
    # a sender check in the recipient list still names the sender, as Postfix
    assert rcpt(m, sender="x@spam.test") == (
        554, "5.7.1 <x@spam.test>: Sender address rejected: no spam")
    assert rcpt(m, sender="x@other.test") == (
        554, "5.7.1 <b@known.test>: Recipient address rejected: Access denied")


BODY = b"From: a@known.test\r\nSubject: act\r\n\r\nhello\r\n"
ACTIONS = ("hold@known.test HOLD\nredir@known.test REDIRECT other@known.test\n"
           "bcc@known.test BCC archive@known.test\ndrop@known.test DISCARD dropped\n"
           "bad@known.test REDIRECT nobody\nheld.test HOLD quarantined\n")


@pytest.fixture
def acted(moat_factory, sink):
    return start(moat_factory, sink, {"rcpts": ACTIONS, "senders": ACTIONS},
                 "smtpd_sender_restrictions = check_sender_access texthash:{senders}\n"
                 "smtpd_recipient_restrictions = check_recipient_access texthash:{rcpts}\n")


def test_hold_from_an_access_table(acted, sink):
    m = acted
    qid = send(m, "a@known.test", ["b@known.test", "hold@known.test"], BODY)
    m.wait_log(rf"{qid}: hold: RCPT from unknown\[127\.0\.0\.1\]: <hold@known\.test>: "
               r"Recipient address triggers HOLD action; from=<a@known\.test> "
               r"to=<hold@known\.test> proto=ESMTP helo=<client\.test\.example>")
    wait_until(lambda: qid in os.listdir(os.path.join(m.queue, "hold")), "not in hold/")
    # a sender's HOLD with its own text; the next message is not held
    qid2 = send(m, "x@held.test", ["b@known.test"], BODY)
    m.wait_log(r"hold: RCPT from .*: <x@held\.test>: Sender address quarantined;")
    wait_until(lambda: qid2 in os.listdir(os.path.join(m.queue, "hold")), "not in hold/")
    send(m, "a@known.test", ["b@known.test"], BODY)
    (got,) = sink.wait_count(1)
    assert got.rcpt_tos == ["b@known.test"]


def test_redirect_and_bcc_from_an_access_table(acted, sink):
    m = acted
    send(m, "a@known.test", ["b@known.test", "redir@known.test"], BODY)
    m.wait_log(r"redirect: RCPT from .*: <redir@known\.test>: Recipient address triggers "
               r"REDIRECT other@known\.test;")
    wait_until(lambda: {r for g in sink.messages for r in g.rcpt_tos} == {"other@known.test"},
             "not redirected")
    send(m, "a@known.test", ["bcc@known.test"], BODY)
    m.wait_log(r"bcc: RCPT from .*: <bcc@known\.test>: Recipient address triggers "
               r"BCC archive@known\.test;")
    wait_until(lambda: sorted(r for g in sink.messages[1:] for r in g.rcpt_tos)
             == ["archive@known.test", "bcc@known.test"], "no BCC copy")


def test_discard_and_a_bad_redirect_from_an_access_table(acted, sink):
    m = acted
    qid = send(m, "a@known.test", ["drop@known.test"], BODY)
    m.wait_log(r"discard: RCPT from .*: <drop@known\.test>: Recipient address dropped;")
    # smtpd answers 250 and tells cleanup to drop the unfinished file: gone
    # from incoming/ soon, and never in any queue qmgr reads
    qdirs = ("incoming", "active", "deferred", "hold")
    wait_until(lambda: all(qid not in os.listdir(os.path.join(m.queue, q)) for q in qdirs),
               "the discarded message is still queued")
    with smtplib.SMTP("127.0.0.1", m.port, timeout=60) as s:
        s.ehlo("client.test.example")
        s.mail("a@known.test")
        assert s.rcpt("bad@known.test") == (451, b"4.3.5 Server configuration error")
    m.wait_log(r"check_recipient_access texthash:.*: REDIRECT and BCC need user@domain")


@pytest.mark.parametrize("item,why", [
    ("check_ccert_access texthash:/nonexistent", "moat has no TLS yet, so no client certificate"),
    ("permit_tls_clientcerts", "moat has no TLS yet, so no client certificate"),
    ("permit_tls_all_clientcerts", "moat has no TLS yet, so no client certificate"),
    ("check_sasl_access texthash:/nonexistent", "moat has no SASL"),
])
def test_checks_that_could_never_match_stop_start_up(moat_factory, item, why):
    m = moat_factory(main_cf_extra=f"smtpd_relay_restrictions = {item}, permit_mynetworks, "
                                   "reject_unauth_destination\n")
    m.start(wait=False)
    assert m.proc.wait(timeout=30) != 0
    err = m.read_stderr()
    assert why in err and item.split()[0] in err and re.search(r"main\.cf:\d+: ", err), err


def test_relay_domains_and_mydestination_tables(moat_factory, sink):
    # Before: smtpd refused to start with a table in either list.
    m = start(moat_factory, sink, {"relay": "relay.test OK\n", "ours": "ours.test OK\n"},
              "mynetworks = 127.0.0.1/32\n"
              "relay_domains = texthash:{relay}\nmydestination = texthash:{ours}\n"
              "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n")
    assert rcpt(m, source="127.0.0.5", to="b@relay.test")[0] == 250
    assert rcpt(m, source="127.0.0.5", to="b@sub.relay.test")[0] == 250   # parent domain
    assert rcpt(m, source="127.0.0.5", to="b@other.test") == (
        554, "5.7.1 <b@other.test>: Relay access denied")
    assert rcpt(m, source="127.0.0.5", to="b@ours.test") == (
        550, "5.1.1 <b@ours.test>: Recipient address rejected: local delivery is not "
             "supported by moat")
    assert rcpt(m, to="b@ours.test")[0] == 550     # mynetworks relays, but never locally


@pytest.mark.parametrize("param", ["relay_domains", "mydestination"])
def test_a_domain_table_that_cannot_answer_defers(moat_factory, sink, param):
    m = start(moat_factory, sink, {"doms": "/^(a+)+\\.tes$/ OK\n"},
              f"mynetworks = 127.0.0.1/32\n{param} = pcre:{{doms}}\n"
              "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n")
    dom = "a" * 40 + ".test"
    assert rcpt(m, source="127.0.0.5", to=f"b@{dom}") == (
        451, f"4.3.0 <b@{dom}>: Temporary lookup failure")
    # a trusted client passes the relay check, but the recipient's address
    # class (smtpd_reject_unlisted_recipient) cannot be told either: 451, as
    # Postfix's resolver fails the same way
    code, msg = rcpt(m, to=f"b@{dom}")
    assert code == 451 and msg.startswith("4.3.0 ") and "Temporary lookup failure" in msg, (code, msg)
    m.wait_log(r"warning: pcre:.*doms: table lookup problem for \"a+\.test\"")


def test_access_table_in_a_restriction_class(moat_factory, sink):
    # RESTRICTION_CLASS_README's use: a class whose list holds its own access table
    m = start(moat_factory, sink, {"rcpts": "b@known.test protected\n",
                                   "senders": "boss@known.test OK\n"},
              "smtpd_restriction_classes = protected\n"
              "protected = check_sender_access texthash:{senders}, reject\n"
              "smtpd_recipient_restrictions = check_recipient_access texthash:{rcpts}\n")
    assert rcpt(m, sender="boss@known.test")[0] == 250
    assert rcpt(m, sender="x@known.test") == (
        554, "5.7.1 <b@known.test>: Recipient address rejected: Access denied")
    assert rcpt(m, sender="x@known.test", to="c@known.test")[0] == 250



def swaks(m, sender, to):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{m.port}", "--from", sender, "--to", to,
                        "--helo", "swaks.test.example", "--body", f"from {sender}"],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout


def test_hash_access_map_built_by_postmap_seen_by_swaks(moat_factory, sink):
    """A Postfix administrator's own table: a hash: access map built by
    Debian's postmap, read by the lookup stage; swaks as the client."""
    m = start(moat_factory, sink, {"senders": "spammer.test REJECT no mail from you\n"
                                              "friend@spammer.test OK\n"},
              "smtpd_sender_restrictions = check_sender_access hash:{senders}\n",
              postmap=["senders"])
    code, out = swaks(m, "bad@spammer.test", "b@known.test")
    assert code != 0 and re.search(r"<\*\* 554 5\.7\.1 <bad@spammer\.test>: Sender address "
                                   r"rejected: no mail from you", out), out
    code, out = swaks(m, "friend@spammer.test", "b@known.test")
    assert code == 0, out
    (msg,) = sink.wait_count(1)
    assert msg.mail_from == "friend@spammer.test"
