#!/usr/bin/env bash
# composition.sh: what a chain of handler actors costs over one handler, in one process, same run.
#
# examples/composition.rs serves /api/x through three per-worker local actors (auth -> rate
# limiter -> backend) and /direct/x through the backend alone. wrk (pipelined depth 16 -c64,
# with the bearer token) alternates between them ROUNDS times; each round prints both rates and
# the chain's cost, 1 - api/direct; the last line is the mean.
#
#   bench/composition.sh                     # 3 rounds of 5 s each path, ~40 s
#   ROUNDS=5 DURATION=10 bench/composition.sh
#
# Knobs (defaults): ROUNDS=3 DURATION=5 WARMUP=2 CONNS=64 DEPTH=16 PORT=18580 BUILD=1 PIN=1.
# Server on CPU 0 with one worker, wrk on CPU 1. Run it on a quiet machine.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-64}
DEPTH=${DEPTH:-16}
PORT=${PORT:-18580}
BUILD=${BUILD:-1}
PIN=${PIN:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. bench/lib.sh
command -v wrk >/dev/null || { echo "composition.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }
script=${CYCLONE_BENCH_DIR:-../shared/bench}/pipeline.lua
[[ -f "$script" ]] || { echo "composition.sh: no $script (set CYCLONE_BENCH_DIR)" >&2; exit 2; }
if [[ "$BUILD" == 1 ]]; then
  cargo build --release --example composition >&2
fi
bench_pin
"${server_cpu[@]}" target/release/examples/composition --logging none --port "$PORT" --workers 1 \
  --budget 1000000000 >/dev/null &
server=$!
trap 'bench_stop $server' EXIT
bench_wait_port "$PORT" composition
rate() {
  "${load_cpu[@]}" wrk -t1 -c"$CONNS" -d"$2" -H 'Authorization: Bearer letmein' -s "$script" \
    "http://127.0.0.1:$PORT$1" -- "$DEPTH" | awk '/^Requests\/sec/ { print $2 }'
}
rate /api/x "${WARMUP}s" >/dev/null
costs=()
echo "composition.sh: commit $(git rev-parse --short HEAD), wrk -t1 -c$CONNS pipelined $DEPTH, ${DURATION}s per path"
for round in $(seq "$ROUNDS"); do
  direct=$(rate /direct/x "${DURATION}s")
  api=$(rate /api/x "${DURATION}s")
  cost=$(awk -v d="$direct" -v a="$api" 'BEGIN { printf "%.1f", (1 - a / d) * 100 }')
  costs+=("$cost")
  echo "round $round: /direct/x $direct rps, /api/x (3 actors) $api rps, chain cost $cost %"
done
printf '%s\n' "${costs[@]}" | awk '{ sum += $1 } END { printf "mean chain cost: %.1f %% over %d rounds\n", sum / NR, NR }'
