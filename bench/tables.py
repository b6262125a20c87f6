"""The tables of bench.py's tables scenario (issue 8), the same for moat and
Postfix: what they hold, how each MTA's hash files are built, the main.cf
lines that name them, and the probe that shows they are consulted.

Nothing here matches the test traffic (bench@sender.test from 127.0.0.1 to
sink@remote.test, smtp-source's headers) except the entries that must: the
recipient's OK in the access map, the recipients in relay_recipient_maps,
the domain in transport_maps. A header check that matched would reject the
message, and the sink would not count it: the row would be INVALID.
"""
import os
import re
import socket
import subprocess

ACCESS_ENTRIES = 100_000
SENDER = "bench@sender.test"
RCPT = "sink@remote.test"
UNLISTED = "nobody@remote.test"
RCPT_DOMAIN = "remote.test"

# 50 header_checks patterns of the kind spam filters carry; none matches a
# header of smtp-source's messages or the Received line either MTA adds.
HEADER_PATTERNS = [
    r"/^Subject:.*viagra/", r"/^Subject:.*cialis/", r"/^Subject:.*\blevitra\b/",
    r"/^Subject:.*(casino|jackpot|roulette)/", r"/^Subject:.*lottery (winner|prize)/",
    r"/^Subject:.*\$\$\$/", r"/^Subject:.*(cheap|discount).*(pills|meds|pharmacy)/",
    r"/^Subject:.*make money fast/", r"/^Subject:.*work from home/",
    r"/^Subject:.*100% (free|guaranteed)/", r"/^Subject:.*(rolex|replica) watch/",
    r"/^Subject:.*weight ?loss/", r"/^Subject:.*enlarge/", r"/^Subject:.*hot singles/",
    r"/^Subject:.*bitcoin (doubler|giveaway)/", r"/^Subject:.*urgent.*(transfer|beneficiary)/",
    r"/^Subject:.*your account (is|has been) (suspended|locked)/",
    r"/^Subject:.*verify your (password|account)/", r"/^Subject:.*=\?[^?]+\?B\?(VklBR1JB|dmlhZ3Jh)/",
    r"/^Subject:.*(!!!!|\?\?\?\?)/", r"/^Subject:\s*$/",
    r"/^From:.*@[^>]*\.(xyz|top|click|loan|work|gq|tk)>?\s*$/",
    r"/^From:.*(noreply|no-reply)@.*(paypa1|amaz0n|app1e)/", r"/^From:.*\d{6,}@/",
    r"/^From:\s*<?>?\s*$/", r"/^Reply-To:.*@(mail\.ru|yandex\.ru)\b/",
    r"/^To:.*undisclosed-recipients:;/", r"/^To:\s*$/",
    r"/^Received:.*\[(10\.66\.|192\.0\.2\.|198\.51\.100\.)/",
    r"/^Received:.*from (unknown|localhost) \(HELO [a-z0-9]{20,}\)/",
    r"/^X-Mailer:.*(bulk|mass|dark) ?mail/", r"/^X-Mailer:.*(Atlas|Advanced Mass Sender)/",
    r"/^X-PHP-Originating-Script:.*\.(php|phtml)/", r"/^X-Spam-Flag:\s*YES/",
    r"/^X-Priority:\s*1.*highest/", r"/^Content-Type:.*name=.*\.(exe|scr|pif|bat|vbs|cmd|com)\b/",
    r"/^Content-Disposition:.*filename=.*\.(exe|scr|pif|bat|vbs|js|jse|wsf)\b/",
    r"/^Content-Type:.*charset=\"?(ks_c_5601|big5|gb2312)/", r"/^MIME-Version:.*[^0-9. ]/",
    r"/^Message-Id:.*<[^@>]*>/", r"/^Message-Id:.*@(localhost|example)\.(com|net)>/",
    r"/^Date:.*\b(19[0-9][0-9]|20[0-1][0-9])\b/", r"/^Date:.*[+-](1[5-9]|2[0-9])[0-9][0-9]\s*$/",
    r"/^List-Unsubscribe:.*(click|track)\.[a-z]+\.(xyz|top)/", r"/^X-Originating-IP:.*\[41\./",
    r"/^User-Agent:.*(Mass|Bulk)Mailer/", r"/^Organization:.*(pharmacy|casino)/",
    r"/^Return-Path:.*@.*\.(ru|cn)>$/", r"/^X-AntiAbuse:.*cpanel/",
    r"/^Sender:.*(bounce|mailer)-[0-9a-f]{16,}@/",
]
assert len(HEADER_PATTERNS) == 50


def _access_lines():
    """ACCESS_ENTRIES entries of the three kinds the checks look up, then the OK."""
    for i in range(ACCESS_ENTRIES):
        kind = i % 4
        if kind == 0:
            yield f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} REJECT listed client\n"
        elif kind == 1:
            yield f"spam{i}.example REJECT listed domain\n"
        elif kind == 2:
            yield f"user{i}@bulk{i % 997}.example REJECT listed sender\n"
        else:
            yield f"mailer{i}.example.net 554 5.7.1 listed network\n"
    yield f"{RCPT} OK\n"


def add(main_cf, sink_port, builder):
    """The tables in a tables/ directory beside main_cf's directory, hash
    files built by builder (argv prefix: moatmap or postmap, reading
    main_cf), and the lines that name them appended to main_cf."""
    d = os.path.join(os.path.dirname(os.path.dirname(main_cf)), "tables")
    os.makedirs(d, exist_ok=True)
    files = {
        "access": "".join(_access_lines()),
        "recipients": "".join([f"{RCPT} OK\n"] + [f"rcpt{i}@{RCPT_DOMAIN} OK\n" for i in range(999)]),
        "transport": f"{RCPT_DOMAIN} smtp:[127.0.0.1]:{sink_port}\n",
        "header_checks": "".join(f"{p} REJECT spam pattern {i}\n" for i, p in enumerate(HEADER_PATTERNS)),
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    for name in ("access", "recipients", "transport"):
        r = subprocess.run(builder + [f"hash:{d}/{name}"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{builder[0]} hash:{d}/{name}: {r.stderr.strip()}")
    with open(main_cf, "a") as f:
        f.write(f"relay_domains = {RCPT_DOMAIN}\n"
                f"relay_recipient_maps = hash:{d}/recipients\n"
                f"transport_maps = hash:{d}/transport\n"
                f"header_checks = pcre:{d}/header_checks\n"
                f"smtpd_recipient_restrictions = check_client_access hash:{d}/access,\n"
                f"    check_sender_access hash:{d}/access, check_recipient_access hash:{d}/access,\n"
                f"    permit_mynetworks, reject_unauth_destination\n")


def rcpt_reply(port, rcpt):
    """The reply to RCPT TO:<rcpt> in a session from 127.0.0.1 (then QUIT)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                return line.decode(errors="replace").strip()

    def cmd(line):
        s.sendall(line.encode() + b"\r\n")
        return reply()

    try:
        reply()
        cmd("EHLO bench.client")
        cmd(f"MAIL FROM:<{SENDER}>")
        r = cmd(f"RCPT TO:<{rcpt}>")
        cmd("QUIT")
        return r
    finally:
        s.close()


def unlisted_refused(port):
    """'' when a recipient missing from relay_recipient_maps is refused, else why not."""
    r = rcpt_reply(port, UNLISTED)
    return "" if r.startswith("550") else f"unlisted recipient got {r!r}"


def count_lookups(mta, log):
    """{process: table lookups} from a verbose log: the queries moat's lookup
    stage answered, by the stage that asked; Postfix's maps_find calls, by
    the process that made them."""
    pattern = (r"moat/lookup\[\d+\]: query from ([\w-]+)\[" if mta == "moat"
               else r"postfix[^/ ]*/([\w-]+)\[\d+\]: maps_find: ")
    counts = {}
    for who in re.findall(pattern, log):
        counts[who] = counts.get(who, 0) + 1
    return counts
