#!/usr/bin/python3
"""seeds.py - write the hand-made seed corpora and dictionaries of the fuzz targets.

    /usr/bin/python3 tests/fuzz/seeds.py tests/fuzz/corpus     (make fuzz-seeds)

Each seed is a small, meaningful input in the form its target reads (see the
header comment of tests/fuzz/fuzz_<target>.c): real SMTP sessions and server
replies, addresses of every syntax class, DNS answers with compression, MX,
PTR and CNAME chains, main.cf and master.cf snippets with continuation lines,
$expansion and errors, messages with smuggling attempts, MIME structures at
and past cleanup's limits, broken status-log records, one IPC packet per
message type of ipc/schema.def (read from it, so the type numbers follow the
schema), and so on.
Well-formed queue files and status logs come from the real writers instead
(seed_queue.c), and the queue golden files of the unit tests are copied. Seeds are written under
fixed names (s-*), so running this again rewrites them and leaves the
entries that libFuzzer merged in (named by their SHA-1) alone. The
dictionaries go next to the targets (tests/fuzz/<target>.dict); the main.cf
one is made from the parameter table, so it follows the table.
"""
import os
import re
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def write_seeds(corpus, target, seeds):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode('latin-1')  # \xNN in a seed is one byte
        with open(os.path.join(d, 's-' + name), 'wb') as f:
            f.write(data)


def write_dict(target, words):
    def esc(w):
        if isinstance(w, str):
            w = w.encode('latin-1')
        out = ''
        for b in w:
            c = chr(b)
            if c in '\\"' or b < 0x20 or b >= 0x7f:
                out += '\\x%02x' % b
            else:
                out += c
        return out
    with open(os.path.join(HERE, target + '.dict'), 'w') as f:
        f.write('# %s.dict - libFuzzer dictionary, written by tests/fuzz/seeds.py\n' % target)
        for i, w in enumerate(sorted(set(words), key=lambda x: (len(x), x))):
            f.write('kw%d="%s"\n' % (i, esc(w)))


# ---- SMTP: the server side ----

SESSION = ('EHLO client.example.net\r\n'
           'MAIL FROM:<sender@example.org> SIZE=1024 BODY=8BITMIME\r\n'
           'RCPT TO:<rcpt@example.com>\r\n'
           'RCPT TO:<postmaster>\r\n'
           'DATA\r\n'
           'QUIT\r\n')

SMTPD_CMD = {
    'session': SESSION,
    'helo': 'HELO client.example.net\r\nRSET\r\nNOOP\r\nQUIT\r\n',
    'null-sender-utf8': 'MAIL FROM:<> SMTPUTF8\r\nRCPT TO:<j\xc3\xb6rg@b\xc3\xbccher.example>\r\n',
    'bare-lf': 'EHLO x\nMAIL FROM:<a@b.example>\nRCPT TO:<c@d.example>\n',
    'lenient-syntax': 'mail from: <a@b.example>\r\nrcpt to:c@d.example\r\nMAIL FROM:a@b\r\n',
    'params': ('MAIL FROM:<a@b.example> SIZE=99999999999999999999\r\n'
               'MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n'
               'MAIL FROM:<a@b.example> RET=HDRS ENVID=x\r\n'
               'MAIL FROM:<a@b.example> SIZE= BODY=7BIT SMTPUTF8=yes\r\n'),
    'tricks': ('RCPT TO:<user%host@relay.example>\r\n'
               'RCPT TO:<host!user@relay.example>\r\n'
               'RCPT TO:<"a@b"@relay.example>\r\n'
               'RCPT TO:<@a.example,@b.example:user@c.example>\r\n'
               'RCPT TO:<user@[192.0.2.1]>\r\n'
               'RCPT TO:<user@[IPv6:2001:db8::1]>\r\n'),
    'other-verbs': 'VRFY root\r\nEXPN staff\r\nHELP\r\nSTARTTLS\r\nAUTH PLAIN AGFAAGI=\r\nBDAT 10 LAST\r\n',
    'long-line': 'MAIL FROM:<' + 'a' * 60 + '@' + 'b' * 190 + '.example> SIZE=1000 BODY=8BITMIME SMTPUTF8\r\n'
                 + 'NOOP ' + 'x' * 600 + '\r\n',
    'nul-and-controls': 'EHLO a\x00b\r\nMAIL FROM:<a\x01@b.example>\r\nRCPT\tTO:<c@d.example>\r\n',
}

SMTPD_DATA = {
    'plain': 'Subject: hi\r\n\r\nHello.\r\n.\r\n',
    'stuffed': 'Subject: x\r\n\r\n..leading dot\r\n...\r\n.\r\n',
    'smuggle-lf-dot-lf': 'Subject: x\r\n\r\nbody\n.\nMAIL FROM:<evil@example>\r\n.\r\n',
    'smuggle-cr-dot-cr': 'body\r.\rRCPT TO:<x@y>\r\n.\r\n',
    'smuggle-lf-dot-crlf': 'body\n.\r\nDATA\r\n.\r\n',
    'smuggle-crlf-dot-lf': 'body\r\n.\nQUIT\r\n.\r\n',
    'bare-cr': 'line with a bare\rCR\r\n.\r\n',
    'dot-cr-x': '.\rx\r\n.\r\n',
    'empty-message': '.\r\n',
    'no-end': 'Subject: x\r\n\r\nnever ends\r\n.',
    'after-end': 'a\r\n.\r\nMAIL FROM:<second@message>\r\n',
    'long-line': 'x' * 3000 + '\r\n.\r\n',
    'binary': 'a\x00b\xff\xfe\r\n\x1b[0m\r\n.\r\n',
}

# ---- SMTP: the client side ----

SMTP_REPLY = {
    'greeting': '220 mx.example.com ESMTP Postfix\r\n',
    'ehlo': ('250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n'
             '250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n'
             '250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n'),
    'ehlo-odd': '250-mx\r\n250-size\r\n250-SIZE abc\r\n250-SIZE 99999999999999999999999\r\n250 AUTH=LOGIN\r\n',
    'pipelined': ('250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n'
                  '550 5.1.1 <bad@example.com>: Recipient address rejected: User unknown\r\n'
                  '354 End data with <CR><LF>.<CR><LF>\r\n'),
    'queued': '250 2.0.0 Ok: queued as 4Sx1yQ2Z3z\r\n221 2.0.0 Bye\r\n',
    'multiline-error': ('554-5.7.1 Service unavailable; Client host [192.0.2.25] blocked\r\n'
                        '554-using zen.spamhaus.org\r\n554 5.7.1 https://www.spamhaus.org/\r\n'),
    'temp': '421 4.4.2 mx.example.com Error: timeout exceeded\r\n',
    'mismatched-codes': '250-first\r\n251 second\r\n',
    'bare-code': '250\r\n220 \r\n',
    'bad-class': '252 3.1.1 wrong class\r\n150 x\r\n',
    'bare-lf': '250-a\n250 b\n',
    'garbage': 'HTTP/1.1 400 Bad Request\r\n\r\n',
    'partial': '250-mx.example.com\r\n250-PIPE',
    'controls': '550 5.1.1 \x1b[31mred\x00\x7f\r\n',
}

# ---- addresses ----

ADDR = {
    'plain': '<user@example.com>',
    'null': '<>',
    'postmaster': '<postmaster>',
    'no-brackets': 'user@example.com',
    'quoted': '<"john doe"@example.com>',
    'quoted-escape': '<"a\\"b\\\\c"@example.com>',
    'quoted-at': '<"a@b"@relay.example>',
    'percent': '<user%host@relay.example>',
    'bang': '<host!user@relay.example>',
    'route': '<@a.example,@b.example:user@c.example>',
    'literal-v4': '<user@[192.0.2.1]>',
    'literal-v6': '<user@[IPv6:2001:db8::1]>',
    'literal-v4mapped': '<user@[IPv6:::ffff:192.0.2.1]>',
    'literal-general': '<user@[tag:general literal]>',
    'utf8': '<j\xc3\xb6rg@b\xc3\xbccher.example>',
    'utf8-overlong': '<a\xc0\xaf@example.com>',
    'utf8-surrogate': '<a\xed\xa0\x80@example.com>',
    'params': '<user@example.com> SIZE=1000 BODY=8BITMIME',
    'atext': "<!#$&'*+-/=?^_`{|}~@example.com>",
    'dots': '<first.last@sub.example.co.uk>',
    'double-dot': '<first..last@example.com>',
    'trailing-dot': '<user@example.com.>',
    'hyphens': '<user@-bad-.example>',
    'local-64': '<' + 'l' * 64 + '@example.com>',
    'local-65': '<' + 'l' * 65 + '@example.com>',
    'label-63': '<u@' + 'd' * 63 + '.example>',
    'label-64': '<u@' + 'd' * 64 + '.example>',
    'path-256': '<' + 'l' * 64 + '@' + '.'.join(['d' * 61] * 3) + '.abc>',
    'unclosed': '<user@example.com',
    'spaces': '< user@example.com >',
}

# ---- DNS answers ----


def dns_name(name, offsets=None, pkt_len=0):
    """Encode name; with offsets (suffix -> offset), compress against earlier names."""
    out = b''
    labels = [l for l in name.split('.') if l]
    for i in range(len(labels)):
        suffix = '.'.join(labels[i:]).lower()
        if offsets is not None and suffix in offsets:
            return out + struct.pack('>H', 0xc000 | offsets[suffix])
        if offsets is not None and pkt_len + len(out) < 0x3fff:
            offsets[suffix] = pkt_len + len(out)
        lab = labels[i].encode()
        out += bytes([len(lab)]) + lab
    return out + b'\0'


class Dns:
    def __init__(self, qid, qname, qtype, rcode=0, flags=0x8180):
        self.offsets = {}
        self.body = b''
        self.header = [qid, flags | rcode, 1, 0, 0, 0]
        self.body += dns_name(qname, self.offsets, 12) + struct.pack('>HH', qtype, 1)

    def rr(self, owner, rtype, rdata, ttl=300, section=3):
        self.header[section] += 1
        self.body += dns_name(owner, self.offsets, 12 + len(self.body))
        fixed = struct.pack('>HHI', rtype, 1, ttl)
        start = 12 + len(self.body) + len(fixed) + 2
        if callable(rdata):
            rdata = rdata(start)
        self.body += fixed + struct.pack('>H', len(rdata)) + rdata
        return self

    def name_rdata(self, name, prefix=b''):
        return lambda start: prefix + dns_name(name, self.offsets, start + len(prefix))

    def bytes(self):
        return struct.pack('>HHHHHH', *self.header) + self.body


A, NS, CNAME, PTR, MX, TXT, AAAA = 1, 2, 5, 12, 15, 16, 28


def dns_seeds():
    s = {}
    m = Dns(0x1234, 'example.com', MX)
    m.rr('example.com', MX, m.name_rdata('mx1.example.com', struct.pack('>H', 10)))
    m.rr('example.com', MX, m.name_rdata('mx2.example.com', struct.pack('>H', 20)))
    m.rr('example.com', MX, m.name_rdata('backup.example.net', struct.pack('>H', 30)))
    m.rr('mx1.example.com', A, bytes([192, 0, 2, 10]), section=5)
    s['mx-compressed'] = m.bytes()
    m = Dns(0x0001, 'example.org', MX)
    m.rr('example.org', MX, m.name_rdata('', struct.pack('>H', 0)))
    s['mx-null'] = m.bytes()
    a = Dns(0xbeef, 'mx1.example.com', A)
    a.rr('mx1.example.com', A, bytes([192, 0, 2, 10]), ttl=60)
    a.rr('mx1.example.com', A, bytes([198, 51, 100, 7]), ttl=0xffffffff)
    s['a-two'] = a.bytes()
    a = Dns(0x0203, 'mx.example.com', AAAA)
    a.rr('mx.example.com', AAAA, bytes.fromhex('20010db8000000000000000000000010'))
    a.rr('mx.example.com', AAAA, bytes.fromhex('20010db8'))  # wrong length
    s['aaaa'] = a.bytes()
    c = Dns(0x4242, 'www.example.com', A)
    c.rr('www.example.com', CNAME, c.name_rdata('web.example.net'))
    c.rr('web.example.net', CNAME, c.name_rdata('cdn.example.org'))
    c.rr('cdn.example.org', A, bytes([203, 0, 113, 5]))
    s['cname-chain'] = c.bytes()
    c = Dns(0x4243, 'loop.example.com', A)
    c.rr('loop.example.com', CNAME, c.name_rdata('loop2.example.com'))
    c.rr('loop2.example.com', CNAME, c.name_rdata('loop.example.com'))
    s['cname-loop'] = c.bytes()
    p = Dns(0x7777, '25.2.0.192.in-addr.arpa', PTR)
    p.rr('25.2.0.192.in-addr.arpa', PTR, p.name_rdata('mail.example.net'))
    s['ptr-v4'] = p.bytes()
    q = '.'.join('0123456789abcdef0000000000000000'[::-1]) + '.ip6.arpa'
    p = Dns(0x7778, q, PTR)
    p.rr(q, PTR, p.name_rdata('host.example.net'))
    s['ptr-v6'] = p.bytes()
    p = Dns(0x7779, '9.2.0.192.in-addr.arpa', PTR)
    p.rr('9.2.0.192.in-addr.arpa', PTR, lambda st: b'\x09bad name!\x07example\x00')
    s['ptr-bad-chars'] = p.bytes()
    s['nxdomain'] = Dns(0x1111, 'nope.example.com', A, rcode=3).bytes()
    s['servfail'] = Dns(0x1112, 'example.com', MX, rcode=2).bytes()
    s['refused'] = Dns(0x1113, 'example.com', MX, rcode=5).bytes()
    s['truncated'] = Dns(0x1114, 'example.com', MX, flags=0x8380).bytes()
    s['nodata'] = Dns(0x1115, 'example.com', AAAA).rr('example.com', TXT, b'\x04text', section=4).bytes()
    pkt = bytearray(Dns(0x1116, 'example.com', A).bytes())
    pkt[7] = 1  # claims one answer, has none
    s['short-answer'] = bytes(pkt)
    s['pointer-loop'] = (struct.pack('>HHHHHH', 0x1117, 0x8180, 1, 1, 0, 0)
                         + b'\xc0\x0c\x00\x01\x00\x01' + b'\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04')
    s['forward-pointer'] = (struct.pack('>HHHHHH', 0x1118, 0x8180, 1, 1, 0, 0)
                            + b'\x07example\x03com\x00\x00\x01\x00\x01' + b'\xc0\x40\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04')
    s['long-name'] = Dns(0x1119, '.'.join(['a' * 63] * 4)[:253], A).bytes()
    s['query-not-reply'] = Dns(0x111a, 'example.com', A, flags=0x0100).bytes()
    return s


# ---- headers ----

HEADER = {
    'subject': 'Subject: Hello there\r\n',
    'folded': 'Subject: a long\r\n subject that\r\n\tis folded\r\n',
    'received': ('Received: from mail.example.net (mail.example.net [192.0.2.25])\r\n'
                 '\tby mx.example.com (moat) with ESMTP id 0123456789ABCDEF\r\n'
                 '\tfor <r@example.com>; Tue, 14 Nov 2023 22:13:20 +0000 (UTC)\r\n'),
    'bcc': 'Bcc: secret@example.com\r\n',
    'obsolete-space': 'Subject : old style\r\n',
    'no-colon': 'Not a header line\r\n',
    'empty-value': 'X-Empty:\r\n',
    'bare-lf-fold': 'To: a@example.com,\n b@example.com\n',
    'encoded': 'Subject: =?utf-8?B?w6l0w6k=?= =?iso-8859-1?q?caf=E9?=\r\n',
    'eight-bit': 'From: J\xc3\xb6rg <j@example.com>\r\n',
    'only-ws': ' \t \r\n',
    'no-crlf': 'Message-ID: <1@example.org>',
}

# ---- configuration ----

MAINCF = {
    'example-run': None,       # filled from examples/
    'example-bastion': None,
    'continuation': ('# a comment\nmyhostname = mx.example.com\nmydestination = $myhostname,\n'
                     '    localhost.$mydomain,\n\tlocalhost\n  # a comment inside\nrelay_domains =\n'),
    'expansion': ('mydomain = example.com\nmyorigin = $mydomain\nsmtpd_banner = ${myhostname} ESMTP $(mail_name)\n'
                  'x_if = ${relay_domains?relay on}\nx_else = ${relay_domains:no relay}\n'
                  'mynetworks = 127.0.0.0/8 [::1]/128 ${my_extra}\nmy_extra = 192.0.2.0/24\n'),
    'loop': 'a = $b\nb = ${c}\nc = $(a)\nmyhostname = $a\n',
    'deep': ''.join('v%d = $v%d x\n' % (i, i + 1) for i in range(40)) + 'v40 = end\nsmtpd_banner = $v0\n',
    'bad-values': ('message_size_limit = -1\nsmtpd_timeout = 10x\nmax_use = 99999999999999999999\n'
                   'smtpd_helo_required = maybe\ninet_protocols = ipv5\n'),
    'types': ('message_size_limit = 0\nheader_size_limit = 1\nsmtpd_timeout = 2m\nmaximal_queue_lifetime = 5d\n'
              'smtpd_recipient_limit = 2147483647\ndisable_vrfy_command = no\nsmtp_tls_security_level = encrypt\n'
              'inet_protocols = ipv4, ipv6\nmynetworks_style = subnet\n'),
    'unknown-and-unimplemented': 'mydestnation = x\nheader_checks = regexp:/etc/moat/header_checks\nfoo = bar\n',
    'syntax-errors': ' starts with a blank\n= no name\nname without equals\nmyhostname = a = b\n\n\n#\n',
    'restrictions': ('smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n'
                     '    check_policy_service unix:private/policy, reject\n'
                     'smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination\n'),
    'crlf': 'myhostname = mx.example.com\r\nmydomain = example.com\r\n',
    'duplicate': 'myhostname = a.example\nmyhostname = b.example\n',
    'empty-group': 'a = $b\nb = {$c}\n\nmyhostname = $a\nmydestination = { }, {x y}, {a,{b}}\n',
}

MASTERCF = {
    'unit-golden': None,       # filled from tests/unit/data/conf/master.cf.in
    'example-run': None,
    'example-bastion': None,
    'overrides': ('submission inet n - y - - smtpd\n'
                  '  -o syslog_name=moat/$service_name\n'
                  '  -o { smtpd_recipient_restrictions = permit_mynetworks, reject }\n'
                  '  -o smtpd_client_restrictions=$mua_client_restrictions\n'
                  '  -osmtpd_helo_required=no\n'),
    'inet-names': ('25 inet n - - - - smtpd\n127.0.0.1:smtp inet n - - - - smtpd\n'
                   '[::1]:2525 inet n - - - - smtpd\n[fe80::1%eth0]:26 inet n - - - - smtpd\n'),
    'bad-columns': ('smtp inet n - y\nsmtp bogus n - y - - smtpd\nsmtp inet x - y - - smtpd\n'
                    'smtp inet n - y -1 - smtpd\nsmtp inet n - y - 99999999999 smtpd\n'),
    'paths': ('../evil unix - - - - - cleanup\nqmgr unix - - - - 1 /bin/sh\n'
              'relay unix - - - - - smtp/../../x\n'),
    'bad-overrides': ('relay unix - - - - - smtp -o\nrelay2 unix - - - - - smtp -o nosuch_param=1\n'
                      'relay3 unix - - - - - smtp -o smtp_connect_timeout=forever\n'
                      'relay4 unix - - - - - smtp -o { unclosed = brace\n'),
    'wakeup': 'qmgr unix n - n 300 1 qmgr\npickup unix n - - 60? 1 pickup -v\n',
    'duplicate': 'smtp inet n - - - - smtpd\nsmtp inet n - - - - smtpd\n',
}

# ---- networks, names, next hops, routing ----

CIDR = {
    'mynetworks': '127.0.0.0/8\n[::1]/128\n192.0.2.0/24\n10.0.0.1\n',
    'negation': '!192.0.2.128/25\n192.0.2.0/24\n192.0.2.200\n192.0.2.5\n',
    'v6': '2001:db8::/32\n[2001:db8::]/32\n[2001:db8::1]\n::ffff:192.0.2.1\n2001:db8:0:0:0:0:0:1\n',
    'mapped': '192.0.2.0/24\n::ffff:192.0.2.9\n[::ffff:c000:0201]\n',
    'host-bits': '192.0.2.1/24\n2001:db8::1/32\n10.0.0.0/33\n[::]/129\n',
    'edges': '0.0.0.0/0\n::/0\n255.255.255.255/32\n/24\n192.0.2.0/\n[]\n[192.0.2.1\n1.2.3\n1.2.3.4.5\n',
    'prefixes': '192.0.2.0/024\n192.0.2.0/+24\n192.0.2.0/ 24\n192.0.2.0/2a\n',
}

HOSTNAME = {
    'plain': 'mail.example.net',
    'trailing-dot': 'mail.example.net.',
    'single-label': 'localhost',
    'numeric': '192.0.2.25',
    'numeric-tail': 'host.123',
    'hyphen-edges': '-bad.example.com',
    'hyphen-end': 'bad-.example.com',
    'underscore': '_dmarc.example.com',
    'empty-label': 'a..example.com',
    'long-label': 'a' * 64 + '.example',
    'max-length': '.'.join(['a' * 63] * 3) + '.' + 'b' * 61,
    'too-long': '.'.join(['a' * 63] * 4),
    'utf8': 'b\xc3\xbccher.example',
    'idn': 'xn--bcher-kva.example',
    'question-marks': 'bad?name.example',
    'reverse-v4': '25.2.0.192.in-addr.arpa',
}

NEXTHOP = {
    'host': 'mx.example.com',
    'host-port': 'mx.example.com:2525',
    'bracket': '[smarthost.example.net]',
    'bracket-port': '[smarthost.example.net]:587',
    'literal-v4': '[192.0.2.1]:25',
    'literal-v6': '[2001:db8::1]',
    'literal-ipv6-tag': '[ipv6:2001:db8::1]:submission',
    'service-names': 'relay.example:smtps',
    'transport': 'smtp:[192.0.2.1]:2525',
    'transport-lmtp': 'lmtp:unix:private/dovecot-lmtp',
    'transport-bare': 'relay',
    'bad-port': 'mx.example.com:0',
    'big-port': 'mx.example.com:65536',
    'unclosed': '[mx.example.com',
    'junk-after': '[mx.example.com]x',
    'unbracketed-v6': '2001:db8::1',
    'empty-brackets': '[]:25',
}

RESOLVE = {
    'defaults': ('mx.example.com localhost.example.com localhost\n\n'
                 '<user@example.org>\n<user@mx.example.com>\n<user@LOCALHOST.>\n'),
    'relay': ('mx.example.com\nexample.com, .example.net relay.example\n'
              '<a@example.com>\n<a@sub.example.com>\n<a@example.net>\n<a@sub.example.net>\n'
              '<a@badexample.com>\n<a@relay.example>\n'),
    'literals': 'mx.example.com\nexample.com\n<a@[192.0.2.1]>\n<a@[IPv6:2001:db8::1]>\n',
    'subdomain-mydest': '.example.com\n\n<a@example.com>\n<a@host.example.com>\n',
    'root-entry': '.\n.\n<a@b.example>\n<a@example.com>\n',   # the '.' entry (domlist bug)
    'case-and-dots': 'Example.COM.\nRELAY.example\n<a@EXAMPLE.com>\n<a@x.relay.EXAMPLE.>\n',
    'tables': 'hash:/etc/moat/domains\n\n<a@b.example>\n',
    'utf8': '\nb\xc3\xbccher.example\n<j@b\xc3\xbccher.example>\n',
}

# ---- DSN report (see fuzz_dsn_report.c for the layout) ----


def dsn_seed(flags, nr, fields, content):
    return bytes([flags, nr]) + b'\0'.join(f.encode('latin-1') for f in fields) + b'\0' + content


MSG = (b'Received: from mail.example.net\r\n\tby mx.example.com; Tue, 14 Nov 2023\r\n'
       b'From: Sender <sender@example.org>\r\nSubject: hello\r\n\r\nBody line\r\n..stuffed\r\n')


def dsn_seeds():
    base = ['mx.example.com', '4Sx1yQ2Z3zABCDEF', 'sender@example.org', 'sender@example.org', '']
    r1 = ['r0@example.com', 'rfc822;r0@example.com', '5.1.1',
          '550 5.1.1 <r0@example.com>: Recipient address rejected: User unknown',
          'mx.example.com[192.0.2.10]:25']
    r2 = ['r1@example.com', 'alias@example.com', '4.4.1', 'connect to mx.example.com[192.0.2.10]:25: Connection refused', 'none']
    r3 = ['r2@example.com', '', '5.4.4', 'Host or domain name not found', '']
    r4 = ['.dot@example.com', 'x', '5.0.0', '.leading dot\r\n.\r\nand a smuggled end', 'relay[1.2.3.4]']
    return {
        'failed-full': dsn_seed(0x80, 0, base + r1, MSG),
        'failed-hdrs': dsn_seed(0x82, 1, base + r1 + r2, MSG),
        'delayed': dsn_seed(0x81, 2, base[:4] + ['ENVID-123'] + r1 + r2 + r3, MSG),
        'too-big': dsn_seed(0x08, 0x80, base + r3, MSG),
        'eight-bit': dsn_seed(0xf4, 0, base + r1, b'Subject: \xc3\xa9\r\n\r\n\xe2\x82\xac\r\n'),
        'hostile-fields': dsn_seed(0x80, 3, ['mx\r\n.\r\n', 'id\x01', 'a\tb', '<>', ''] + r4 + r4 + r1 + r2,
                                   b'.\r\nline\r\n.\r\n'),
        'long-reason': dsn_seed(0xf8, 0, base + r1[:3] + [('word ' * 400).strip(), 'x[1.2.3.4]:25'], MSG),
        'no-header-end': dsn_seed(0x02, 0, base + r1, b'Subject: x\r\nNo-Empty-Line: y'),
    }

# ---- cleanup (see fuzz_cleanup.c for the layout) ----


def cleanup_seed(flags, limit, helo, sender, rcpt, content):
    return bytes([flags, limit]) + helo + b'\0' + sender + b'\0' + rcpt + b'\0' + content


def cleanup_seeds():
    h, s, r = b'client.example.net', b'sender@example.org', b'rcpt@example.com'
    return {
        'remote': cleanup_seed(0x00, 0x80, h, s, r, MSG),
        'local-missing-headers': cleanup_seed(0x01, 0x80, h, s, r, b'Subject: no from, date, id\r\n\r\nbody\r\n'),
        'resent': cleanup_seed(0x05, 0x80, h, s, r, b'Resent-From: a@b\r\nResent-Date: x\r\nFrom: c@d\r\n\r\nbody\r\n'),
        'bounce-two-rcpts': cleanup_seed(0x0a, 0x80, b'', b'', r, MSG),
        'dropped-headers': cleanup_seed(0x00, 0x80, h, s, r,
                                        b'Bcc: hidden@example.com\r\nContent-Length: 5\r\nReturn-Path: <x@y>\r\n'
                                        b'Resent-Bcc: z@y\r\nTo: r\r\n\r\nbody\r\n'),
        'truncated-header': cleanup_seed(0x00, 0x00, h, s, r,
                                         b'Subject: ' + b'long ' * 300 + b'\r\n continued\r\nX: y\r\n\r\nbody\r\n'),
        'no-empty-line': cleanup_seed(0x30, 0x80, h, s, r, b'Subject: x\r\nthis line is body\r\nmore\r\n'),
        'bare-lf-and-cr': cleanup_seed(0x20, 0x80, h, s, r, b'Subject: x\nTo: y\r\n\n\rbody\n'),
        'continuation-first': cleanup_seed(0x00, 0x80, h, s, r, b' leading blank\r\nSubject: x\r\n\r\n'),
        'unfinished-name': cleanup_seed(0x00, 0x80, h, s, r, b'Subject: x\r\nPartialName'),
        'lone-cr': cleanup_seed(0x00, 0x80, h, s, r, b'Subject: x\r\n\r'),
        'many-received': cleanup_seed(0x00, 0x80, h, s, r, b'Received: x\r\n' * 50 + b'\r\nbody\r\n'),
        'hostile-envelope': cleanup_seed(0x40, 0x80, b'evil\r\nX-Injected: yes', b'a\x01b@example.org',
                                         b'r\r\n@example.com', MSG),
        'empty-rcpt': cleanup_seed(0x00, 0x80, h, s, b'', MSG),
        'obsolete-space': cleanup_seed(0x00, 0x80, h, s, r, b'Subject : old\r\nFrom\t: x\r\n\r\n'),
        'empty': cleanup_seed(0x00, 0x80, h, s, r, b''),
    }

# ---- cleanup's MIME scanner (see fuzz_cleanup_mime.c for the layout) ----
# Byte 0 picks the limits: 0xff is line 71, boundary 16, part header 271
# bytes, nesting 8, every error reported; 0x0f line 23, boundary 1, header
# 31; 0xf1 nesting 2, only the nesting error; 0x2f a 10-byte line.


def mime_seed(limits, content):
    return bytes([limits]) + content


def mime_multipart(boundary, parts, ctype=b'multipart/mixed', extra=b''):
    out = b'Content-Type: ' + ctype + b'; boundary="' + boundary + b'"\r\n' + extra + b'\r\npreamble\r\n'
    for part in parts:
        out += b'--' + boundary + b'\r\n' + part + b'\r\n'
    return out + b'--' + boundary + b'--\r\nepilogue\r\n'


def mime_nested(depth):
    inner = b'Content-Type: text/plain\r\n\r\nleaf\r\n'
    for i in range(depth):
        inner = mime_multipart(b'n%d' % i, [inner])
    return inner


def cleanup_mime_seeds():
    text = b'Content-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n'
    eight = b'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9\r\n'
    rfc822 = b'Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nbody\r\n'
    return {
        'digest': (b'\x0fContent-Type: multipart/digest; boundary=d\r\nContent-Transfer-Encoding: base64\r\n'
                   b'\r\n--d\r\n\r\nSubject: caf\xe9\r\n\r\nx\r\n--d--\r\n'),
        'multipart': (b'/Content-Type: multipart/mixed; boundary="b"\r\n\r\npre\r\n--b\r\n'
                      b'Content-Transfer-Encoding: 8bit\r\n\r\n\xe9\r\n--b\r\nContent-Type: message/rfc822\r\n'
                      b'\r\nSubject: x\r\n\r\n\xe9\r\n--b--\r\nepi\r\n'),
        'plain-7bit': mime_seed(0xff, b'Subject: hi\r\n\r\nplain body\r\n'),
        'eight-bit-header': mime_seed(0xff, b'Subject: caf\xc3\xa9\r\n\r\nbody\r\n'),
        'eight-bit-body-7bit-part': mime_seed(0xff, b'Subject: x\r\n\r\n\xe2\x82\xac\r\n'),
        'mixed': mime_seed(0xff, b'MIME-Version: 1.0\r\n' + mime_multipart(b'=_b1', [text, eight, rfc822])),
        'alternative-in-mixed': mime_seed(0xff, mime_multipart(b'outer', [
            mime_multipart(b'inner', [text, b'Content-Type: text/html\r\n\r\n<p>hi</p>\r\n'],
                           b'multipart/alternative'), eight])),
        'nesting-9': mime_seed(0xff, mime_nested(9)),
        'nesting-2-limit': mime_seed(0xf1, mime_nested(3)),
        'message-in-message': mime_seed(0xff, b'Content-Type: message/rfc822\r\n\r\n' + rfc822),
        'message-global': mime_seed(0xff, b'Content-Type: message/global\r\n\r\nSubject: \xc3\xa9\r\n\r\nx\r\n'),
        'domain-base64-multipart': mime_seed(0xff, mime_multipart(b'b', [text], extra=b'Content-Transfer-Encoding: base64\r\n')),
        'domain-qp-message': mime_seed(0xff, b'Content-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n'
                                       b'\r\nSubject: x\r\n\r\ny\r\n'),
        'encodings': mime_seed(0xff, mime_multipart(b'e', [
            b'Content-Transfer-Encoding: BINARY\r\n\r\n\xff\x00\r\n',
            b'Content-Transfer-Encoding: 7bit (comment)\r\n\r\n\xe9\r\n',
            b'Content-Transfer-Encoding: x-unknown\r\n\r\n\xe9\r\n',
            b'Content-Transfer-Encoding:\r\n\tquoted-printable\r\n\r\n=E9\r\n'])),
        'boundary-prefix-1': mime_seed(0x0f, mime_multipart(b'abc', [text, mime_multipart(b'abd', [text])])),
        'boundary-prefix-16': mime_seed(0xff, mime_multipart(b'0123456789abcdefX', [
            mime_multipart(b'0123456789abcdefY', [text, eight])])),
        'boundary-past-line-limit': mime_seed(0x2f, mime_multipart(b'a-rather-long-boundary', [text, eight])),
        'boundary-forms': mime_seed(0xff,
                                    b'Content-Type: Multipart/Mixed;\r\n boundary=plain-token ; charset="x"\r\n\r\n'
                                    b'--plain-token  \r\n\r\na\r\n--plain-token\t\r\n\r\nb\r\n--plain-token--  \r\n'),
        'boundary-quoted-escapes': mime_seed(0xff, b'Content-Type: multipart/mixed; boundary="a\\"b c"\r\n\r\n'
                                             b'--a"b c\r\n\r\nx\r\n--a"b c--\r\n'),
        'boundary-missing': mime_seed(0xff, b'Content-Type: multipart/mixed\r\n\r\n--\r\n\r\n\xe9\r\n----\r\n'),
        'boundary-empty': mime_seed(0xff, b'Content-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\nx\r\n----\r\n'),
        'no-closing-boundary': mime_seed(0xff, b'Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n'
                                         b'Content-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n\r\n\xe9'),
        'outer-closes-inner': mime_seed(0xff, b'Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n'
                                        b'Content-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\nx\r\n'
                                        b'--o\r\n\r\n\xe9\r\n--o--\r\n'),
        'bare-lf': mime_seed(0xff, mime_multipart(b'lf', [text, eight]).replace(b'\r\n', b'\n')),
        'long-header-folded': mime_seed(0x0f, b'Content-Type: multipart/mixed;\r\n' + b' x=y;\r\n' * 40
                                        + b' boundary=late\r\n\r\n--late\r\n\r\n\xe9\r\n--late--\r\n'),
        'long-line-8bit': mime_seed(0x2f, b'Subject: x\r\n\r\n' + b'a' * 200 + b'\xe9' + b'b' * 200 + b'\r\n'),
        'digest-parts': mime_seed(0xff, mime_multipart(b'd', [b'\r\nSubject: one\r\n\r\nx\r\n',
                                                              b'Content-Type: text/plain\r\n\r\n\xe9\r\n',
                                                              b'\r\nSubject: \xe9\r\n\r\ny\r\n'],
                                                       b'multipart/digest')),
        'header-no-colon': mime_seed(0xff, b'Content-Type multipart/mixed; boundary=q\r\nX\r\n\r\n--q\r\n\r\n\xe9\r\n'),
        'nothing-reported': mime_seed(0xf0, mime_nested(10) + b'\xe9\r\n'),
    }

# ---- status logs: hostile ones (seed_queue.c writes the well-formed ones) ----


def varint(n):
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def statuslog_entry(fields, rtype=b'L'):
    data = b''.join(f + b'\0' for f in fields)
    return rtype + varint(len(data)) + data


def statuslog_seeds():
    good = [b'rcpt=r@example.com', b'orcpt=', b'notify=2', b'dsn=5.1.1', b'action=failed',
            b'reason=550 no such user', b'relay=mx.example.com[192.0.2.10]:25', b'when=1700000000']
    return {
        'missing-dsn': statuslog_entry([f for f in good if not f.startswith(b'dsn=')]),
        'unknown-key': statuslog_entry(good + [b'evil=1']),
        'duplicate-keys': statuslog_entry(good + [b'rcpt=other@example.com', b'dsn=4.0.0']),
        'no-equals': statuslog_entry(good[:3] + [b'dsn'] + good[4:]),
        'bad-numbers': statuslog_entry(good[:2] + [b'notify=99999999999999999999'] + good[3:7]
                                       + [b'when=-5']),
        'line-breaks': statuslog_entry(good[:5] + [b'reason=550 a\r\n.\r\nQUIT', b'relay=x\ny'] + good[7:]),
        'no-final-nul': statuslog_entry(good)[:-1],
        'length-past-end': b'L' + varint(4000) + b'rcpt=a@b\0',
        'non-minimal-varint': b'L\x85\x00' + b'rcpt=',
        'wrong-type': statuslog_entry(good, rtype=b'R') + statuslog_entry(good),
        'empty-entry': b'L\x00' + statuslog_entry(good),
        'many': statuslog_entry(good) * 70,
    }

# ---- IPC packets: one per message type of ipc/schema.def ----
# The wire format is ipc/ipc.h's; the type number is the message's place in
# schema.def (the test-hook messages at its end are not in the fuzz build).
# fuzz_ipc_decode decodes the input whole, and from byte 1 on with fds
# chosen by byte 0: nfds = b % 5, pool (b / 5) % 2; pool 0 holds two
# sockets, a directory and /dev/null, pool 1 two read-only regular files, a
# directory and /dev/null.

IPC_U32 = {'version': 1, 'type': 15, 'status': 0, 'pref': 10, 'ttl': 300, 'kind': 1, 'ret': 1,
           'body_type': 2, 'nrcpt': 2, 'notify': 6, 'flags': 1, 'level': 6, 'client_port': 40000}
IPC_STR = {'proto': 'cleanup', 'stage': 'smtpd', 'service': 'smtp', 'peer_stage': 'cleanup',
           'reason': '4.4.1 connect to mx.example.com[192.0.2.10]:25: Connection refused',
           'detail': 'sent a message its side may not send', 'command': 'reload', 'arg': '',
           'text': 'moat/smtpd[4242]: 4Sx1yQ2Z3zABCDEF: client=mail.example.net[192.0.2.25]',
           'client_name': 'mail.example.net', 'client_addr': '192.0.2.25', 'helo': 'mail.example.net',
           'protocol': 'ESMTP', 'sasl_user': '', 'sender': 'sender@example.org', 'envid': 'ENVID-1',
           'queue_id': '4Sx1yQ2Z3zABCDEF', 'dsn_queue_id': '4Sx1yQ3A0zABCDEF', 'addr': 'rcpt@example.com',
           'orcpt': 'rfc822;rcpt@example.com', 'transport': 'relay', 'nexthop': '[192.0.2.10]:2525',
           'dsn': '5.1.1', 'relay': 'mx.example.com[192.0.2.10]:25', 'name': 'example.com',
           'value': 'mx1.example.com', 'queue_name': 'active', 'dsn_text': '',
           'reply': '550 5.1.1 <rcpt@example.com>: Recipient address rejected: User unknown'}
IPC_POOL = {'IPC_FD_SOCK': 0, 'IPC_FD_REG_RO': 1, 'IPC_FD_REG': 1}

SCREEN_INPUTS = {
    'ehlo': b'EHLO client.example.net\r\n',
    'pipelined': b'EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n',
    'bare-lf': b'HELO c\nQUIT\n',
    'no-line-end': b'EHLO ' + b'x' * 4091,
    'binary': b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n',
    'empty': b'',
}


def ipc_schema():
    with open(os.path.join(TOP, 'ipc', 'schema.def')) as f:
        text = f.read().split('#ifdef MOAT_TEST_HOOKS')[0]
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    msgs = []
    for m in re.finditer(r'IPC_MSG\((\w+),\s*(\w+),(.*?)\)\)\s*(?=IPC_MSG|$)', text, re.S):
        fields = re.findall(r'IPC_(U32|U64|STR|BYTES|FD)\((\w+)(?:,\s*(\w+))?', m.group(3))
        msgs.append((m.group(2), fields))
    return msgs


def ipc_packet(number, fields, over=None):
    over = over or {}
    out, nfd, pool = struct.pack('<H', number), 0, 0
    for kind, name, arg in fields:
        v = over.get(name)
        if kind == 'U32':
            out += struct.pack('<I', IPC_U32.get(name, 1) if v is None else v)
        elif kind == 'U64':
            out += struct.pack('<Q', 1700000000123456 if v is None else v)
        elif kind in ('STR', 'BYTES'):
            v = (IPC_STR.get(name, 'x').encode() if kind == 'STR' else MSG) if v is None else v
            out += struct.pack('<I', len(v)) + v
        else:
            out += bytes([nfd])
            nfd += 1
            pool = max(pool, IPC_POOL.get(arg, 0))
    return out, nfd, pool


def ipc_seeds():
    seeds = {}
    for number, (name, fields) in enumerate(ipc_schema(), 1):
        pkt, nfd, pool = ipc_packet(number, fields)
        if nfd == 0:
            seeds[name] = pkt
        seeds['fd-' + name] = bytes([pool * 5 + nfd]) + pkt
        if name == 'screen_conn':
            for what, data in SCREEN_INPUTS.items():
                pkt, nfd, pool = ipc_packet(number, fields, {'input': data})
                seeds['fd-screen_conn-' + what] = bytes([pool * 5 + nfd]) + pkt
            pkt, nfd, pool = ipc_packet(number, fields, {'input': b'x' * 4097, 'flags': 0x80})
            seeds['fd-screen_conn-too-long'] = bytes([pool * 5 + nfd]) + pkt
    return seeds

# ---- dictionaries ----


def maincf_words():
    with open(os.path.join(TOP, 'conf', 'params.c')) as f:
        names = re.findall(r'P_[A-Z]+\("([a-z0-9_]+)"', f.read())
    return names + ['$', '${', '$(', '}', ')', '?', ':', ' = ', '\n ', '\n\t', '#', ',',
                    'yes', 'no', 's', 'm', 'h', 'd', 'w', 'all', 'ipv4', 'ipv6']


DICTS = {
    'fuzz_smtpd_cmd': ['HELO ', 'EHLO ', 'MAIL FROM:', 'RCPT TO:', 'DATA', 'RSET', 'NOOP', 'QUIT',
                       'VRFY ', 'EXPN ', 'HELP', ' SIZE=', ' BODY=', '8BITMIME', '7BIT', ' SMTPUTF8',
                       '<', '>', '<>', '@', '\r\n', '"', '[IPv6:', ']', '%', '!'],
    'fuzz_smtpd_data': ['\r\n', '\r\n.\r\n', '\n.\n', '\r.\r', '\n.\r\n', '\r\n.\n', '..', '.\r', '.\n'],
    'fuzz_smtp_reply': ['250-', '250 ', '220 ', '354 ', '421 ', '450 ', '550-', '554 ', '2.1.0', '5.1.1',
                        '4.7.1', '\r\n', 'PIPELINING', 'SIZE ', '8BITMIME', 'SMTPUTF8', 'DSN',
                        'ENHANCEDSTATUSCODES', 'STARTTLS', 'CHUNKING', 'AUTH '],
    'fuzz_addr': ['<', '>', '<>', '@', '"', '\\', '[', ']', 'IPv6:', '::', '%', '!', ',@', ':', '.',
                  '\xc3\xa9', '\xe2\x82\xac', '\xf0\x9f\x98\x80', ' SIZE='],
    'fuzz_header': [':', ': ', '\r\n', '\r\n ', '\r\n\t', '\n ', 'Received', 'Bcc', 'Subject', '=?utf-8?'],
    'fuzz_cleanup': ['\r\n', '\r\n\r\n', '\r\n ', ': ', 'Received: ', 'Bcc: ', 'Content-Length: ',
                     'Return-Path: ', 'Resent-Bcc: ', 'Message-ID: ', 'Date: ', 'From: ', 'Resent-From: ',
                     'Resent-Date: ', 'Resent-Message-ID: '],
    'fuzz_mastercf': ['inet', 'unix', 'unix-dgram', 'fifo', 'pass', ' - ', ' n ', ' y ', '?', '-o ', '{ ', ' }',
                      '\n  ', '#', 'smtpd', 'smtp', 'cleanup', 'qmgr', 'bounce', 'dns', 'log',
                      'syslog_name=', 'smtpd_helo_required=', '$service_name', '[::1]:', '127.0.0.1:'],
    'fuzz_dns_pkt': ['\xc0\x0c', '\x00\x01\x00\x01', '\x00\x0f\x00\x01', '\x00\x0c\x00\x01',
                     '\x00\x1c\x00\x01', '\x00\x05\x00\x01', '\x81\x80', '\x81\x83', '\x83\x80',
                     '\x07example\x03com\x00', '\x07in-addr\x04arpa\x00', '\x03ip6\x04arpa\x00'],
    'fuzz_nexthop': ['[', ']', ':', 'ipv6:', 'smtp', 'lmtp', 'submission', 'smtps', 'submissions', '25',
                     '65535', '.example'],
    'fuzz_resolve': ['\n', ', ', '.', '<', '>', '@', '[', ']', 'example.com', 'localhost', '!', ':'],
    'fuzz_cidr': ['/', '[', ']', '!', '::', '::ffff:', '.0', '/32', '/128', '/0', '255'],
    'fuzz_cleanup_mime': ['\r\n', '\r\n\r\n', '\r\n ', '--', 'Content-Type: ', 'multipart/mixed',
                          'multipart/digest', 'multipart/alternative', 'message/rfc822', 'message/global',
                          'text/plain', '; boundary=', '; boundary="', 'Content-Transfer-Encoding: ',
                          '7bit', '8bit', 'binary', 'base64', 'quoted-printable', '\xc3\xa9'],
}


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: seeds.py CORPUSDIR')
    corpus = sys.argv[1]

    def read(*p):
        with open(os.path.join(TOP, *p), 'rb') as f:
            return f.read()
    MAINCF['example-run'] = read('examples', 'run', 'main.cf')
    MAINCF['example-bastion'] = read('examples', 'bastion-relay', 'main.cf')
    MASTERCF['unit-golden'] = read('tests', 'unit', 'data', 'conf', 'master.cf.in')
    MASTERCF['example-run'] = read('examples', 'run', 'master.cf')
    MASTERCF['example-bastion'] = read('examples', 'bastion-relay', 'master.cf')
    write_seeds(corpus, 'fuzz_smtpd_cmd', SMTPD_CMD)
    write_seeds(corpus, 'fuzz_smtpd_data', SMTPD_DATA)
    write_seeds(corpus, 'fuzz_smtp_reply', SMTP_REPLY)
    write_seeds(corpus, 'fuzz_addr', ADDR)
    write_seeds(corpus, 'fuzz_dns_pkt', dns_seeds())
    write_seeds(corpus, 'fuzz_header', HEADER)
    write_seeds(corpus, 'fuzz_maincf', MAINCF)
    write_seeds(corpus, 'fuzz_mastercf', MASTERCF)
    write_seeds(corpus, 'fuzz_cidr', CIDR)
    write_seeds(corpus, 'fuzz_hostname', HOSTNAME)
    write_seeds(corpus, 'fuzz_nexthop', NEXTHOP)
    write_seeds(corpus, 'fuzz_resolve', RESOLVE)
    write_seeds(corpus, 'fuzz_dsn_report', dsn_seeds())
    write_seeds(corpus, 'fuzz_cleanup', cleanup_seeds())
    write_seeds(corpus, 'fuzz_cleanup_mime', cleanup_mime_seeds())
    write_seeds(corpus, 'fuzz_statuslog', statuslog_seeds())
    write_seeds(corpus, 'fuzz_ipc_decode', ipc_seeds())
    golden = os.path.join(TOP, 'tests', 'unit', 'data', 'queue')
    os.makedirs(os.path.join(corpus, 'fuzz_queue_file'), exist_ok=True)
    for name in sorted(os.listdir(golden)):
        if name.endswith('.in'):
            shutil.copyfile(os.path.join(golden, name),
                            os.path.join(corpus, 'fuzz_queue_file', 'g-' + name[:-3]))
    for target, words in DICTS.items():
        write_dict(target, [w.encode('latin-1') if isinstance(w, str) else w for w in words])
    write_dict('fuzz_maincf', maincf_words())


if __name__ == '__main__':
    main()
