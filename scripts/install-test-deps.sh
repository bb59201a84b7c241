#!/usr/bin/env bash
# Installs the Debian packages that the tests need, if any is missing. The one list of
# them: .ci/run calls this, and a developer can run it too (as root or with sudo).
#
#   postgresql, redis-server, rabbitmq-server  the servers integration and e2e tests use; e2e/chaos
#                                               also runs private ones (initdb/pg_ctl as postgres,
#                                               redis-server, a second RabbitMQ node) on 40000-44999
#   docker-compose                              `docker-compose config -q` in deploy/test
#                                               (1.29 validates offline, no engine needed)
#   dnsmasq                                     real DNS for MX tests (started by the tests on a
#                                               loopback high port; no daemon is left on port 53)
#   fetchmail, getmail6                         POP3 clients of e2e/pop3-clients
#   swaks, libnet-ssleay-perl, libio-socket-ssl-perl  SMTP client of the submission tests (with STARTTLS)
#   isync, mutt                                 IMAP clients of e2e/imap-clients (mbsync, mutt under `script`)
#   postfix                                     smtp-source for bench/submission-smtp.sh; its daemon is stopped
#                                               smtp-sink: the remote MX of relay-queue's tests and bench
#   prometheus                                  e2e/observability-metrics runs its own on a free loopback
#                                               port; the Debian daemon (and node exporter) are stopped
#   rspamd                                      spam scoring tests: packages/testkit's startRspamd() runs a
#                                               private one on loopback high ports; the Debian daemon is stopped
set -euo pipefail

packages=(postgresql redis-server rabbitmq-server docker-compose isync mutt dnsmasq fetchmail getmail6 swaks libnet-ssleay-perl libio-socket-ssl-perl postfix prometheus rspamd)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "test dependencies: all installed (${packages[*]})"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "test dependencies: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# No recommends: docker-compose would otherwise bring a whole Docker engine.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
# Postfix comes for its smtp-source/smtp-sink tools only: its daemon must not hold port 25.
if command -v postfix >/dev/null 2>&1; then "${sudo[@]}" postfix stop >/dev/null 2>&1 || true; fi
# Prometheus comes for e2e/observability-metrics, which runs its own: stop the Debian
# service (port 9090) and its node exporter (9100) if the package started them.
for daemon in prometheus prometheus-node-exporter; do
  "${sudo[@]}" service "$daemon" stop >/dev/null 2>&1 || true
done
# rspamd comes for the spam scoring tests, which run their own (startRspamd in packages/testkit):
# the Debian daemon must not hold 11332-11334 or keep a worker busy.
"${sudo[@]}" service rspamd stop >/dev/null 2>&1 || true
