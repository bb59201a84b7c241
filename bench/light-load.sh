#!/usr/bin/env bash
# A light, mixed load on a private `pnpm start` stack with the ports of
# docs/kubernetes.md "Requests and limits": the load behind its figures. Needs swaks,
# smtp-source (postfix) and curl, the domain k8s.test with user@k8s.test
# (password k8s-measure-pass), and sink.test routed to smtp-sink on 127.0.0.1:45050.
set -u
# 300 inbound messages over SMTP MX, 5 sessions at once, ~2 KB each
smtp-source -c -s 5 -m 300 -l 2000 -f sender@example.org -t user@k8s.test 127.0.0.1:45025 &
# 200 outbound messages: SMTP submission (STARTTLS + AUTH) → routing → relay-queue → smtp-sink
for w in 1 2 3 4; do
  ( for i in $(seq 50); do
      swaks -s 127.0.0.1 -p 45087 -tls -a PLAIN -au user@k8s.test -ap k8s-measure-pass \
        -f user@k8s.test -t "r$w-$i@sink.test" --body "outbound $w $i" >/dev/null 2>&1 || echo "swaks $w $i failed"
    done ) &
done
wait
# 200 IMAP sessions (STARTTLS, LOGIN, SELECT, FETCH one message) and 100 POP3 sessions
# (STLS, LIST) one after another: POP3 locks the maildrop (RFC 1939 §8), a second session at once gets -ERR
for w in 1 2 3 4; do
  ( for i in $(seq 50); do
      curl -s -k --ssl-reqd "imap://127.0.0.1:45043/INBOX;UID=$(( (i * 4 + w) % 300 + 1 ))" -u user@k8s.test:k8s-measure-pass -o /dev/null || echo "imap $w $i failed"
    done ) &
done
( for i in $(seq 100); do
    curl -s -k --ssl-reqd "pop3://127.0.0.1:45010/" -u user@k8s.test:k8s-measure-pass -o /dev/null || echo "pop3 $i failed"
  done ) &
wait
