"""Crash safety: while smtp-source pushes 2000 messages through moat, stages
(smtpd, cleanup, qmgr, smtp) are SIGKILLed again and again. Every message
smtp-source got a 250 for must reach the next hop; the queue must end empty.
Duplicates (a message delivered twice because an smtp process died between
the next hop's 250 and reporting it) are counted and printed."""
import collections
import os
import random
import re
import signal
import subprocess
import threading
import time

from mailpeers import RecordingSink
from relayenv import FAST_RETRY, queue_ids_in, relay_main_cf, relay_master_cf

VICTIMS = ["smtpd", "cleanup", "qmgr", "smtp"]



def crash_diagnosis(m, state):
    """What every stage is blocked in, for a run that left mail behind."""
    out = ["\n--- status\n" + m.ctl("status", check=False).stdout + f"\n--- queue {state}\n"]
    for pid, stage in m.stage_pids().items():
        info = {}
        for name in ("wchan", "syscall", "stack"):
            try:
                with open(f"/proc/{pid}/{name}") as g:
                    info[name] = g.read().strip()
            except OSError as e:
                info[name] = str(e)
        out.append(f"--- {stage}[{pid}] wchan={info['wchan']} syscall={info['syscall']}\n{info['stack']}\n")
    out.append("--- broker stderr (stage lines that found no log channel)\n" + m.read_stderr()[-20000:])
    return "".join(out)


def test_sigkill_storm_loses_nothing(moat_factory):
    with RecordingSink() as sink:
        m = moat_factory(main_cf_extra=relay_main_cf(sink.port, FAST_RETRY))
        with open(os.path.join(m.confdir, "master.cf"), "w") as f:
            f.write(relay_master_cf(m).replace(" 20 smtpd", " 30 smtpd"))
        m.start()
        kills = collections.Counter()
        stop = threading.Event()
        rnd = random.Random(1234)

        def killer():
            while not stop.wait(rnd.uniform(0.1, 0.3)):
                pids = [p for p, s in m.stage_pids().items() if s in VICTIMS]
                if not pids:
                    continue
                pid = rnd.choice(pids)
                stage = m.stage_pids().get(pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills[stage] += 1
                except ProcessLookupError:
                    pass

        t = threading.Thread(target=killer)
        t.start()
        # smtp-source gives up on its first broken session, and a SIGKILLed
        # smtpd breaks one: start it again for the rest until 2000 were acked.
        acked = set()
        runs = 0
        try:
            while len(acked) < 2000 and runs < 60:
                runs += 1
                r = subprocess.run(["smtp-source", "-v", "-s", "20", "-m", str(2000 - len(acked)),
                                    "-l", "5120", "-f", "sender@sender.test", "-t", "rcpt@remote.test",
                                    f"127.0.0.1:{m.port}"], capture_output=True, text=True, timeout=600)
                acked |= set(re.findall(r"<<< 250 2\.0\.0 Ok: queued as (\w+)", r.stderr))
        finally:
            stop.set()
            t.join()
        assert len(acked) >= 2000, f"only {len(acked)} messages acknowledged in {runs} runs"
        deadline = time.time() + 180
        while time.time() < deadline:
            got = collections.Counter(q.decode() for x in sink.messages for q in queue_ids_in(x.content)[:1])
            if acked <= set(got) and not any(os.listdir(os.path.join(m.queue, d))
                                             for d in ("incoming", "active", "deferred")):
                break
            time.sleep(0.5)
        got = collections.Counter(q.decode() for x in sink.messages for q in queue_ids_in(x.content)[:1])
        missing = acked - set(got)
        dups = sum(c - 1 for c in got.values() if c > 1)
        print(f"\ncrash storm: kills {dict(kills)}; acknowledged {len(acked)}; "
              f"delivered {sum(got.values())} ({len(got)} distinct); duplicates {dups}; missing {len(missing)}; "
              f"smtp-source runs {runs}")
        assert sum(kills.values()) >= 5, kills
        state = {d: len(os.listdir(os.path.join(m.queue, d))) for d in ("incoming", "active", "deferred", "hold", "corrupt")}
        if missing:  # keep the evidence: the test's own directory is removed
            with open("/tmp/moat-crash-failure.log", "w") as f:
                f.write(m.log() + crash_diagnosis(m, state))
        assert not missing, (sorted(missing)[:5], state, "see /tmp/moat-crash-failure.log")
        for d in ("incoming", "active", "deferred", "hold"):
            assert os.listdir(os.path.join(m.queue, d)) == [], d
