#!/usr/bin/env bash
# Installs what `make bench` needs beyond `make install`: Debian's `wrk` (the HTTP load generator of
# bench.bridge_latency's throughput figure), only when it is missing. Without root it only warns: the
# benchmark then says that wrk is absent and skips that one figure.
set -euo pipefail

command -v wrk >/dev/null 2>&1 && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "wrk is missing (sudo apt-get install -y wrk); the throughput figure will be skipped" >&2
    exit 0
fi
echo "installing system packages: wrk"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends wrk >/dev/null
}
