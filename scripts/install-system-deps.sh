#!/usr/bin/env bash
# Installs the Debian packages the service and its tests need, only those that are missing.
# Chromium comes from Debian (Playwright cannot download its own browser on every machine);
# CHROMIUM_PATH points elsewhere when a browser is already installed.
set -euo pipefail

missing=()
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$chromium_path" ] || missing+=(chromium)
# The deployment tests run the real redis-server and nginx (not their system services).
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
python_bin="${PYTHON:-python3}"
command -v "$python_bin" >/dev/null 2>&1 || missing+=(python3)
if command -v "$python_bin" >/dev/null 2>&1 && ! "$python_bin" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
