#!/usr/bin/env bash
# make demo: the emulator (a local TikTok) and the service in front of it, offline.
# Stops both on Ctrl-C or when either exits.
set -euo pipefail
cd "$(dirname "$0")/.."
EMULATOR_PORT="${EMULATOR_PORT:-8900}"
.venv/bin/python -m emulator --port "$EMULATOR_PORT" &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true' EXIT INT TERM
export TIKTOK_BASE_URL="http://127.0.0.1:${EMULATOR_PORT}"
echo "demo: try  curl 'http://127.0.0.1:${PORT:-5000}/trending?count=5'  or  /category?hashtag=food  or  /search?q=pasta"
.venv/bin/python -m bridge
