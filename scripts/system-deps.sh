#!/usr/bin/env bash
# Install Debian packages for development and CI (root only):
#
#   scripts/system-deps.sh PACKAGE...
#
# apt-get update once, then apt-get install -y --no-install-recommends, with no
# prompts. Packages that start a system daemon on install (redis-server,
# postgresql-15) are kept from starting it: the tests run their own private
# servers, and a stray system Redis/PostgreSQL would only take ports and memory.
set -euo pipefail

if (($# == 0)); then
    echo "usage: $0 PACKAGE..." >&2
    exit 2
fi
if [[ "$(id -u)" != 0 ]]; then
    echo "ERROR: installing $* needs root: sudo apt-get install -y --no-install-recommends $*" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Debian's policy-rc.d hook: exit 101 = "do not start services". Only installed
# for the duration of this call, and only when the machine has none of its own.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=true
fi
cleanup() {
    if $own_policy; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT

# postgresql-common creates and starts a "main" cluster on install unless told
# not to; we only want the binaries.
# (createcluster.conf includes createcluster.d/.)
if [[ " $* " == *" postgresql"* ]]; then
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/sohbet-no-main.conf
fi

echo "apt-get update" >&2
apt-get update -qq
echo "apt-get install --no-install-recommends $*" >&2
apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
