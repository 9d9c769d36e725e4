#!/usr/bin/env bash
# make demo: the emulator (a local TikTok) and the service in front of it, offline.
# The service starts once the emulator listens; if the emulator cannot start (EMULATOR_PORT in use,
# a crash), the demo stops there with exit status 1. Afterwards, when either process exits (or on
# Ctrl-C), the other is stopped by its PID and the demo exits non-zero (the first one's status).
set -euo pipefail
cd "$(dirname "$0")/.."
EMULATOR_PORT="${EMULATOR_PORT:-8900}"
START_TIMEOUT=30 # seconds the emulator may take to listen
STOP_GRACE=15    # seconds each process may take to exit after SIGTERM, then SIGKILL

emulator_pid="" service_pid=""
work="$(mktemp -d "${TMPDIR:-/tmp}/demo.XXXXXX")"

exited_within() { # PID SECONDS: whether PID is gone within SECONDS (polled every 0.1 s)
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
stop() { # PID: SIGTERM, STOP_GRACE seconds to exit, then SIGKILL
  kill "$1" 2>/dev/null || return 0
  exited_within "$1" "$STOP_GRACE" || kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  [ -z "$service_pid" ] || stop "$service_pid"
  [ -z "$emulator_pid" ] || stop "$emulator_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The emulator prints "emulator listening on URL" once it listens, and nothing else on stdout: read
# that line through a FIFO (EOF if it exits first), with a deadline.
mkfifo "$work/emulator.out"
.venv/bin/python -m emulator --port "$EMULATOR_PORT" >"$work/emulator.out" &
emulator_pid=$!
exec 3<"$work/emulator.out"
line="" read_status=0
read -r -t "$START_TIMEOUT" -u 3 line || read_status=$?
if [[ "$line" != "emulator listening on "* ]]; then
  if ((read_status > 128)); then
    echo "demo: the emulator did not listen within ${START_TIMEOUT}s; stopping it" >&2
  else # its stdout closed: it is exiting
    exited_within "$emulator_pid" "$STOP_GRACE" || stop "$emulator_pid"
    status=0
    wait "$emulator_pid" || status=$?
    emulator_pid=""
    echo "demo: the emulator did not start (exit $status); is port $EMULATOR_PORT in use? try EMULATOR_PORT=..." >&2
  fi
  exit 1
fi
echo "demo: $line (pid $emulator_pid)"

export TIKTOK_BASE_URL="http://127.0.0.1:${EMULATOR_PORT}"
.venv/bin/python -m bridge 3<&- &
service_pid=$!
echo "demo: service pid $service_pid; try  curl 'http://127.0.0.1:${PORT:-5000}/trending?count=5'  or  /category?hashtag=food  or  /search?q=pasta"

status=0 exited=""
wait -n -p exited "$emulator_pid" "$service_pid" || status=$?
if [ "$exited" = "$emulator_pid" ]; then
  emulator_pid=""
  echo "demo: the emulator exited (status $status); stopping the service" >&2
else
  service_pid=""
  echo "demo: the service exited (status $status); stopping the emulator" >&2
fi
exit $((status == 0 ? 1 : status))
