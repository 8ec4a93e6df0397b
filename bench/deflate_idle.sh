#!/usr/bin/env bash
# deflate_idle.sh: server memory per idle WebSocket connection with permessage-deflate on every
# connection. N clients from Python's `websockets` (which offers deflate the way a browser does)
# each send one 1 KiB JSON text message, get its echo, and idle; the server's RSS growth over N
# is the cost of one connection. Runs cyclone's bench_server (`/ws`, DeflateConfig::new()) and
# Tornado 6.6's echo with compression on, one after the other, in the same run.
#
#   bench/deflate_idle.sh                  # N=10000
#   N=2000 bench/deflate_idle.sh           # a quick run
#   SERVERS="cyclone tornado" EXTRA_CYCLONE=/path/to/older/bench_server bench/deflate_idle.sh
#
# Knobs (defaults): N=10000, PORT=18400, PYTHON (a Python with `websockets` and `tornado`;
#   ../shared/bench/.venv/bin/python, else /tmp/bench/.venv/bin/python, else python3),
#   SERVERS="cyclone tornado", BUILD=1 (0: use the bench_server already built), SETTLE=3 (s
#   idle before RSS is read), EXTRA_CYCLONE (another bench_server binary, measured as
#   "cyclone-extra", e.g. a build from before this change).
# The server runs on CPU 0 (one worker), the clients on CPU 1. The descriptor hard limit is
# 20 000 per process here, so N stays below ~19 000 (one client process).
# Output: a table on stdout and in bench/results/deflate-idle-<date>.md.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

N=${N:-10000}
PORT=${PORT:-18400}
SERVERS=${SERVERS:-cyclone tornado}
BUILD=${BUILD:-1}
SETTLE=${SETTLE:-3}
EXTRA_CYCLONE=${EXTRA_CYCLONE:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ -z "${PYTHON:-}" ]]; then
  for candidate in ../shared/bench/.venv/bin/python /tmp/bench/.venv/bin/python python3; do
    if "$candidate" -c 'import websockets, tornado' 2>/dev/null; then PYTHON=$candidate; break; fi
  done
fi
"${PYTHON:?no Python with websockets and tornado: ../shared/bench/setup.sh python}" \
  -c 'import websockets, tornado' || { echo "$PYTHON lacks websockets or tornado" >&2; exit 1; }

if [[ "$BUILD" == 1 ]]; then
  cargo build --release --example bench_server >&2
fi
if [[ -n "$EXTRA_CYCLONE" ]]; then
  SERVERS="$SERVERS cyclone-extra"
fi
ulimit -n "$(ulimit -Hn)"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

server_pid=
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

rows=()
measure() {
  local name=$1 out fifo client_pid line base after
  shift
  out=$(mktemp)
  setsid taskset -c 0 "$@" >"$out" 2>&1 3>&- &
  server_pid=$!
  for _ in $(seq 100); do grep -q 'listening' "$out" && break; sleep 0.1; done
  grep -q 'listening' "$out" || { echo "$name did not start:"; cat "$out"; exit 1; } >&2
  # One connection first, so lazily made buffers and the first zlib contexts count in the base.
  # The clients idle until their stdin, a fifo whose one writer is fd 3 here, closes (3>&-: a
  # client must not hold the writer itself).
  fifo=$(mktemp -u); mkfifo "$fifo"
  exec 3<>"$fifo"
  taskset -c 1 "$PYTHON" bench/deflate_idle/clients.py "ws://127.0.0.1:$PORT/ws" 1 <"$fifo" >/dev/null 3>&- &
  sleep 2
  base=$(rss_kib "$server_pid")
  taskset -c 1 "$PYTHON" bench/deflate_idle/clients.py "ws://127.0.0.1:$PORT/ws" "$N" <"$fifo" >"$out.clients" 2>&1 3>&- &
  client_pid=$!
  for _ in $(seq 1800); do grep -q '^ready' "$out.clients" && break; sleep 0.1; done
  line=$(grep '^ready' "$out.clients" || echo "ready 0 $N none")
  sleep "$SETTLE"
  after=$(rss_kib "$server_pid")
  read -r _ connected failed answer <<<"$line"
  grep -m1 '^first failure' "$out.clients" >&2 || true
  echo "== $name: $line; RSS $base -> $after KiB" >&2
  rows+=("| $name | $connected | $failed | $base | $after | $(awk -v a="$after" -v b="$base" -v n="$connected" 'BEGIN { if (n > 0) printf "%.2f", (a - b) / n; else print "-" }') | \`$answer\` |")
  exec 3>&-
  wait "$client_pid" 2>/dev/null || true
  rm -f "$fifo" "$out" "$out.clients"
  stop_server
  sleep 1
}

for server in $SERVERS; do
  case $server in
    # N clients and the base one: past the server's default max_connections (10 000) at
    # N = 10 000, where the last client would wait in the accept queue and time out.
    cyclone) measure cyclone target/release/examples/bench_server --port "$PORT" --workers 1 \
      --max-connections $((N + 100)) ;;
    cyclone-extra) measure cyclone-extra "$EXTRA_CYCLONE" --port "$PORT" --workers 1 ;;
    tornado) measure "tornado" "$PYTHON" bench/deflate_idle/tornado_echo.py "$PORT" ;;
    *) echo "unknown server $server" >&2; exit 1 ;;
  esac
done

stamp=$(date +%Y-%m-%d-%H%M%S)
mkdir -p bench/results
{
  echo "Idle WebSocket connections with permessage-deflate, $(date +%Y-%m-%d), $(nproc) cores, N=$N (Python websockets clients, one 1 KiB message each, then idle ${SETTLE}s)"
  echo
  echo "| server | connected | failed | RSS before, KiB | RSS after, KiB | KiB per connection | answer |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "bench/results/deflate-idle-$stamp.md"
