#!/usr/bin/env bash
# Installs the Debian packages that the tests need, if any is missing. The one list of
# them: .ci/run calls this, and a developer can run it too (as root or with sudo).
#
#   postgresql, redis-server, rabbitmq-server  the servers integration and e2e tests use
#   docker-compose                              `docker-compose config -q` in deploy/test
#                                               (1.29 validates offline, no engine needed)
set -euo pipefail

packages=(postgresql redis-server rabbitmq-server docker-compose)

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
