#!/usr/bin/env bash
# fanout.sh: one WebSocket broadcast to as many loopback clients as one server process can hold,
# then to N5 clients over K processes sharing the port (SO_REUSEPORT, Tornado's multi-process
# mode), then over EXTRA_K processes. Server: examples/ws_fanout.rs; driver: bench/fanout/.
#
#   bench/fanout.sh                       # N1=19000 on 1 process; N5=100000 on K=5, then on 6
#   N1=2000 N5=5000 K=2 EXTRA_K= bench/fanout.sh   # a quick smoke run
#   TEXT=1 K= EXTRA_K= bench/fanout.sh    # one process only, broadcasting text
#   DEFLATE=both PAD=300 TEXT=1 K= EXTRA_K= bench/fanout.sh   # 300-byte JSON, plain then deflate
#   BROKER="local redis" N5=95000 EXTRA_K= bench/fanout.sh      # the library room, both brokers
#
# Every server process runs one worker (`--workers 1`): the machine has 2 cores and the driver
# needs one, and one loop per process is Tornado's multi-process model. For the one-process run
# the server is pinned to CPU 0 and the driver to CPU 1 (PIN=1); the multi-process runs are not
# pinned (K servers and the driver's shards share both cores).
#
# Knobs (defaults): N1=19000 N5=100000 K=5 EXTRA_K=6 ROUNDS=3 PORT=18300 TIMEOUT=300 (s, per
#   driver run) HANDSHAKE_TIMEOUT=10 (s) BUILD=1 (0: use the binaries already built) PIN=1
#   TEXT=0 (1: the rooms broadcast a text message instead of binary; K= or EXTRA_K= empty
#   skips that run) DEFLATE=0 (1: every client offers permessage-deflate and the server accepts
#   it; both: each run twice, without then with) PAD=0 (bytes of JSON after the timestamp in
#   each broadcast, for a chat-sized message) BROKER=none (a space-separated list, each run
#   once per entry: none = the example's own per-worker rooms, the driver sending the broadcast
#   to every process; local = the library's room `fanout` on the local broker, likewise;
#   redis = the library's room on a redis-server this script starts on REDIS_PORT (PORT+1),
#   the driver posting the broadcast in ONE process and Redis carrying it to the others)
# Output: a table on stdout and in bench/results/fanout-<date>.md, with each driver's full
# report (RSS per server process, latency per round) under it; server logs in .log.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

N1=${N1:-19000}
N5=${N5:-100000}
K=${K-5}
EXTRA_K=${EXTRA_K-6}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18300}
TIMEOUT=${TIMEOUT:-300}
HANDSHAKE_TIMEOUT=${HANDSHAKE_TIMEOUT:-10}
BUILD=${BUILD:-1}
PIN=${PIN:-1}
TEXT=${TEXT:-0}
DEFLATE=${DEFLATE:-0}
PAD=${PAD:-0}
BROKER=${BROKER:-none}
REDIS_PORT=${REDIS_PORT:-$((PORT + 1))}
server_args=()
if [[ "$TEXT" == 1 ]]; then
  server_args=(--text)
fi
case $DEFLATE in
  0) modes=(plain) ;;
  1) modes=(deflate) ;;
  both) modes=(plain deflate) ;;
  *) echo "DEFLATE is 0, 1 or both" >&2; exit 1 ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
server_bin=target/release/examples/ws_fanout
driver_bin=bench/fanout/target/release/cyclone-fanout

if [[ "$BUILD" == 1 ]]; then
  cargo build --release --example ws_fanout >&2
  cargo build --release --manifest-path bench/fanout/Cargo.toml >&2
fi

# One descriptor per connection, in the servers and the driver's shards alike (they inherit it;
# the driver raises its own too). The hard limit here is 20 000 and cannot be raised.
ulimit -n "$(ulimit -Hn)"

stamp=$(date +%Y-%m-%d-%H%M%S)
mkdir -p bench/results
log=bench/results/fanout-$stamp.log
report=bench/results/fanout-$stamp.md
details=$(mktemp)

server_pids=()
stop_servers() {
  for pid in "${server_pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${server_pids[@]}"; do
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  server_pids=()
}
redis_pid=
redis_dir=
stop_redis() {
  if [[ -n "$redis_pid" ]]; then
    kill -TERM "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  [[ -n "$redis_dir" ]] && rm -rf "$redis_dir"
  redis_pid= redis_dir=
}
trap 'stop_servers; stop_redis; rm -f "$details"' EXIT

# A redis-server of its own on REDIS_PORT, in a temporary directory, without persistence.
start_redis() {
  command -v redis-server >/dev/null || { echo "BROKER=redis needs redis-server (apt-get install -y redis-server)" >&2; exit 1; }
  redis_dir=$(mktemp -d)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$redis_dir" --save '' \
    --appendonly no >"$redis_dir/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 100); do
    grep -q 'Ready to accept connections' "$redis_dir/redis.log" && return
    sleep 0.1
  done
  echo "redis-server did not start:" >&2
  cat "$redis_dir/redis.log" >&2
  exit 1
}

# start_servers MODE COUNT CPU...: COUNT processes on PORT, each in a session of its own so that it is
# stopped by its own pid and group; waits until each says it listens.
start_servers() {
  local mode=$1 count=$2 pin=("${@:3}") index out extra=()
  [[ "$mode" == deflate ]] && extra=(--deflate)
  extra+=(--broker "$broker" --redis_url "redis://127.0.0.1:$REDIS_PORT")
  for index in $(seq "$count"); do
    out=$(mktemp)
    setsid "${pin[@]}" "$server_bin" --port "$PORT" --workers 1 "${server_args[@]}" "${extra[@]}" >"$out" 2>&1 &
    server_pids+=($!)
    for _ in $(seq 100); do
      grep -q '^listening' "$out" && break
      sleep 0.1
    done
    cat "$out" >>"$log"
    grep -q '^listening' "$out" || { echo "server $index did not start" >&2; rm -f "$out"; exit 1; }
    rm -f "$out"
  done
}

rows=()
# run MODE COUNT CLIENTS SOURCE_BASE: COUNT servers, then the driver; its summary becomes a row.
# Each run gets its own source addresses: the last run's closed clients sit in TIME_WAIT on theirs.
run() {
  local mode=$1 count=$2 clients=$3 base=$4 server_pin=() driver_pin=() output driver_extra=()
  local label=$mode
  [[ "$mode" == deflate ]] && driver_extra=(--deflate)
  [[ "$broker" == redis ]] && driver_extra+=(--post-once)
  [[ "$broker" != none ]] && label="$mode, $broker broker"
  if [[ "$PIN" == 1 && "$count" == 1 ]]; then
    server_pin=(taskset -c 0)
    driver_pin=(taskset -c 1)
  fi
  start_servers "$mode" "$count" "${server_pin[@]}"
  echo "== $label: $count server process(es), $clients clients" >&2
  output=$("${driver_pin[@]}" "$driver_bin" --url "ws://127.0.0.1:$PORT/ws" \
    --connections "$clients" --servers "$count" --rounds "$ROUNDS" --timeout "$TIMEOUT" \
    --handshake-timeout "$HANDSHAKE_TIMEOUT" --source-base "$base" --pad "$PAD" \
    "${driver_extra[@]}" 2>>"$log") || true
  printf '### %s\n\n%s\n\n' "$label, $count server process(es)" "$output" >>"$details"
  printf '%s\n' "$output" | grep -v '^summary' >&2
  rows+=("$(printf '%s\n' "$output" | sed -n "s/^summary | /| $label | /p")")
  stop_servers
  sleep 2
}

# Each run gets 10 source addresses of its own (a run's shards use base, base+1, ...).
base=2
broker=none
for mode in "${modes[@]}"; do
  for broker in $BROKER; do
    case $broker in
      none | local) ;;
      redis) [[ -z "$redis_pid" ]] && start_redis ;;
      *) echo "BROKER lists none, local or redis, not $broker" >&2; exit 1 ;;
    esac
    run "$mode" 1 "$N1" "$base"
    base=$((base + 10))
    if [[ -n "$K" ]]; then
      run "$mode" "$K" "$N5" "$base"
      base=$((base + 10))
    fi
    if [[ -n "$EXTRA_K" ]]; then
      run "$mode" "$EXTRA_K" "$N5" "$base"
      base=$((base + 10))
    fi
  done
done

{
  kind=binary
  [[ "$TEXT" == 1 ]] && kind=text
  echo "WebSocket fan-out of a $kind message (padding $PAD bytes; ${modes[*]}; brokers: $BROKER), $(date +%Y-%m-%d), $(nproc) cores, descriptor limit $(ulimit -Hn), $ROUNDS rounds"
  echo
  echo "| mode | server processes | clients asked | clients held | per process | KiB per client (RSS) | connect s | last client / p99 ms, per round | not connected |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for row in "${rows[@]}"; do
    echo "${row:-| (driver failed, see the log) |}"
  done
  echo
  cat "$details"
} | tee "$report"
echo "report: $report; logs: $log" >&2
