#!/usr/bin/env python3
"""IMAP (imaplib) and POP3 (poplib) steps on a filled mailbox, for `pnpm bench`.

  retrieval.py measure --imap-port P --pop3-port Q --user U --password W [--bodies 1000] [--runs 3]
  retrieval.py lmtp-fill --port 24 --user U DIR      (delivers DIR/*.eml over LMTP, 4 sessions)

`measure` runs one untimed warm-up pass, then --runs passes. Around every step it
prints `begin <step>` / `end <step> <seconds> <messages>` and waits for a line on
stdin, so that the caller can read the server's CPU time from /proc between steps
without this client's own work in it. Each step is one command (or, for RETR, a
sequence) on the same connection, as a mail client would send it.
"""
import argparse, glob, imaplib, os, poplib, smtplib, sys, time
from concurrent.futures import ThreadPoolExecutor


class Steps:
    def __init__(self, sync):
        self.sync = sync

    def run(self, name, fn):
        if self.sync:
            print(f'begin {name}', flush=True)
            sys.stdin.readline()
        t = time.perf_counter()
        count = fn()
        s = time.perf_counter() - t
        if self.sync:
            print(f'end {name} {s:.6f} {count}', flush=True)
            sys.stdin.readline()
        return s


def imap_pass(a, steps):
    box = {}

    def login():
        box['m'] = m = imaplib.IMAP4(a.host, a.imap_port)
        m.login(a.user, a.password)
        typ, d = m.select('INBOX')
        box['exists'] = int(d[0])
        return 1

    steps.run('imap_login_select', login)
    m, exists = box['m'], box['exists']
    m.store('1:*', '-FLAGS.SILENT', '(\\Seen)')
    steps.run('imap_fetch_meta', lambda: (m.uid('FETCH', '1:*', '(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)'), exists)[1])
    n = min(a.bodies, exists)
    steps.run('imap_fetch_bodies', lambda: (m.fetch(f'1:{n}', '(BODY.PEEK[])'), n)[1])
    steps.run('imap_search_from', lambda: (m.search(None, 'FROM', '"alice"'), exists)[1])
    steps.run('imap_search_text', lambda: (m.search(None, 'TEXT', '"zebrafish"'), exists)[1])
    steps.run('imap_store_seen', lambda: (m.store('1:*', '+FLAGS', '(\\Seen)'), exists)[1])
    m.store('1:*', '-FLAGS.SILENT', '(\\Seen)')
    m.logout()


def pop_pass(a, steps):
    box = {}

    def login():
        box['p'] = p = poplib.POP3(a.host, a.pop3_port)
        p.user(a.user)
        p.pass_(a.password)
        return 1

    steps.run('pop3_login', login)
    p = box['p']
    count = p.stat()[0]
    steps.run('pop3_stat', lambda: (p.stat(), count)[1])
    steps.run('pop3_uidl', lambda: (p.uidl(), count)[1])
    n = min(a.bodies, count)

    def retr():
        for i in range(1, n + 1):
            p.retr(i)
        return n

    steps.run('pop3_retr', retr)
    p.quit()


def measure(a):
    warm = Steps(False)
    imap_pass(a, warm)
    pop_pass(a, warm)
    steps = Steps(True)
    for _ in range(a.runs):
        imap_pass(a, steps)
    for _ in range(a.runs):
        pop_pass(a, steps)


def lmtp_fill(a):
    files = sorted(glob.glob(os.path.join(a.dir, '*.eml')))
    raws = [open(f, 'rb').read() for f in files]

    def deliver(chunk):
        with smtplib.LMTP(a.host, a.port) as s:
            s.ehlo('bench')
            for raw in chunk:
                s.sendmail('corpus@example.org', [a.user], raw)

    t = time.time()
    deliver(raws[:1])  # the mailbox exists before the parallel sessions
    with ThreadPoolExecutor(4) as ex:
        list(ex.map(deliver, [raws[1:][k::4] for k in range(4)]))
    print(f'{len(raws)} messages over LMTP in {time.time() - t:.1f} s')


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    m = sub.add_parser('measure')
    m.add_argument('--host', default='127.0.0.1')
    m.add_argument('--imap-port', type=int, required=True)
    m.add_argument('--pop3-port', type=int, required=True)
    m.add_argument('--user', required=True)
    m.add_argument('--password', required=True)
    m.add_argument('--bodies', type=int, default=1000)
    m.add_argument('--runs', type=int, default=3)
    f = sub.add_parser('lmtp-fill')
    f.add_argument('--host', default='127.0.0.1')
    f.add_argument('--port', type=int, default=24)
    f.add_argument('--user', required=True)
    f.add_argument('dir')
    a = ap.parse_args()
    measure(a) if a.cmd == 'measure' else lmtp_fill(a)


if __name__ == '__main__':
    main()
