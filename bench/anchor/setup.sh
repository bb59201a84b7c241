#!/bin/bash
# Postfix 3.7 + Dovecot 2.3 from Debian's packages, configured for `pnpm bench` as the
# reference stack (the same settings as ../shared/anchors/setup_stack.sh):
#   Postfix on 127.0.0.1:25: virtual domain anchor.test (user1..user20) delivered over LMTP
#   to Dovecot; remote.test relayed to smtp-sink on 127.0.0.2:25; everything else stock
#   (queue fsync, concurrency, chroot).
#   Dovecot with its own config file (bench/anchor/dovecot.conf.in): IMAP 127.0.0.1:143,
#   POP3 127.0.0.1:110, LMTP for Postfix and on 127.0.0.1:24; Maildir in /var/vmail.
# Needs root. Installs the packages when missing; idempotent; `setup.sh stop` stops both.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=/var/lib/correo-bench
CONF="$RUN/dovecot.conf"

if [ "${1:-}" = stop ]; then
  postfix stop 2>/dev/null || true
  [ -f "$CONF" ] && doveadm -c "$CONF" stop 2>/dev/null || true
  exit 0
fi

missing=()
for p in postfix dovecot-imapd dovecot-pop3d dovecot-lmtpd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
[ -f /etc/postfix/main.cf ] || cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf

getent group vmail >/dev/null || groupadd -g 5000 vmail
getent passwd vmail >/dev/null || useradd -u 5000 -g 5000 -d /var/vmail -s /usr/sbin/nologin -M vmail
mkdir -p /var/vmail "$RUN" && chown vmail:vmail /var/vmail

# Postfix: a few settings on top of Debian's main.cf (the original is kept once).
[ -f /etc/postfix/main.cf.correo-bench-orig ] || cp /etc/postfix/main.cf /etc/postfix/main.cf.correo-bench-orig
postconf -e \
  "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
  'mydestination = $myhostname, localhost.localdomain, localhost' "mynetworks = 127.0.0.0/8" \
  "virtual_mailbox_domains = anchor.test" "virtual_mailbox_maps = hash:/etc/postfix/correo_bench_vmailbox" \
  "virtual_transport = lmtp:unix:private/dovecot-lmtp" "transport_maps = hash:/etc/postfix/correo_bench_transport" \
  "maillog_file = /var/log/correo-bench-postfix.log"
: >/etc/postfix/correo_bench_vmailbox
: >"$RUN/users.passwd"
for i in $(seq 1 20); do
  echo "user$i@anchor.test OK" >>/etc/postfix/correo_bench_vmailbox
  echo "user$i@anchor.test:{PLAIN}secret::::::" >>"$RUN/users.passwd"
done
echo "remote.test smtp:[127.0.0.2]:25" >/etc/postfix/correo_bench_transport
postmap /etc/postfix/correo_bench_vmailbox /etc/postfix/correo_bench_transport
newaliases
touch /var/log/correo-bench-postfix.log
/usr/lib/postfix/configure-instance.sh -
postfix check
postfix status >/dev/null 2>&1 && postfix reload || postfix start

# Dovecot, not the package's /etc/dovecot config.
sed "s#@RUN@#$RUN#g" "$HERE/dovecot.conf.in" >"$CONF"
if doveadm -c "$CONF" stop >/dev/null 2>&1; then sleep 1; fi
dovecot -c "$CONF"
for _ in $(seq 1 50); do ss -ltn | grep -q '127.0.0.1:143 ' && break; sleep 0.2; done
ss -ltn | grep -qE '127.0.0.1:25 ' && ss -ltn | grep -qE '127.0.0.1:110 ' && echo "anchor stack up: Postfix 127.0.0.1:25, Dovecot IMAP :143 POP3 :110"
