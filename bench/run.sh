#!/usr/bin/env bash
# run.sh: measure cyclone's bench_server against the peer servers (actix-web, hyper, Tornado,
# tokio-tungstenite) in one run, with the shared harness's compare.sh.
#
#   bench/run.sh                                   # every peer and cyclone, ~5 min
#   ONLY="actix-web hyper cyclone" REPEAT=3 bench/run.sh
#   DURATION=2 REPEAT=1 ONLY="hyper cyclone" bench/run.sh   # a quick smoke run
#
# Needs the harness (CYCLONE_BENCH_DIR, default ../shared/bench from the repository root) set up
# once per machine: `$CYCLONE_BENCH_DIR/setup.sh` (wrk, the Python venv, the peers built in
# release). compare.sh writes its raw logs inside that folder, so it must be writable.
#
# Run it on a quiet machine: other work halves the numbers. Quote ratios from one run, never
# absolute numbers from different runs.
#
# Knobs: every compare.sh knob passes through (ONLY, REPEAT, DURATION, WARMUP, CONNS,
# CONNS_HIGH, PIPELINE, PIN, WORKERS, RATIO_BASE, WAIT_IDLE, ...; see compare.sh --help), plus
#   WS=1          bench_server serves the WebSocket echo at /ws, so cyclone runs the echo and
#                 idle-connection tests too; 0 runs its HTTP tests only
#   IDLE_CONNS    idle WebSocket connections for the RSS test (compare.sh's default, 10000,
#                 when WS=1; 0 when WS=0)
#   BUILD=1       0: use target/release/examples/$EXAMPLE as it is
#   EXAMPLE=bench_server   the candidate: bench_server (the bare HttpServer, the default) or
#                 hello (Tornado's hello through Application and a RequestHandler), or any
#                 example taking --port and --workers; it runs with --logging none, as the
#                 peers log nothing per request
# Output: the table on stdout and in bench/results/<date>.md (git-ignored; commit a result
# deliberately with `git add -f`).
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench_dir=${CYCLONE_BENCH_DIR:-../shared/bench}
if [[ ! -x "$bench_dir/compare.sh" ]]; then
  echo "run.sh: no compare.sh in $bench_dir; set CYCLONE_BENCH_DIR to the shared bench folder" >&2
  exit 2
fi

WS=${WS:-1}
BUILD=${BUILD:-1}
EXAMPLE=${EXAMPLE:-bench_server}
if [[ "$EXAMPLE" != bench_server ]]; then
  # Only bench_server serves the WebSocket echo.
  WS=0
fi
if [[ "$BUILD" == 1 ]]; then
  cargo build --release --example "$EXAMPLE" >&2
fi

# compare.sh runs the command with `bash -c` from this directory, PORT and WORKERS in its
# environment; `exec` makes the pid it stops the server itself.
server="exec target/release/examples/$EXAMPLE --logging none --port \$PORT"
unset CANDIDATE CANDIDATE_HTTP CANDIDATE_WS
if [[ "$WS" == 1 ]]; then
  export CANDIDATE=$server
else
  # Without a /ws route the echo test would only count errors: give compare.sh no WS server.
  export CANDIDATE_HTTP=$server
  export IDLE_CONNS=${IDLE_CONNS:-0}
fi
export CANDIDATE_NAME=cyclone-$EXAMPLE
# compare.sh names the candidate cyclone-$EXAMPLE; "cyclone" in ONLY means it, whatever the
# example (without this, ONLY="actix-web cyclone" silently measured actix-web alone).
if [[ -n "${ONLY:-}" ]]; then
  only=""
  for name in $ONLY; do
    [[ "$name" == cyclone ]] && name=$CANDIDATE_NAME
    only+="${only:+ }$name"
  done
  export ONLY=$only
fi

stamp=$(date +%Y-%m-%d-%H%M%S)
mkdir -p bench/results
report=bench/results/$stamp.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit+=" (with uncommitted changes)"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)

{
  echo "# cyclone vs peers, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "cyclone $commit; $(nproc) CPUs${cpu:+ ($cpu)}; knobs:" \
    "ONLY=\"${ONLY:-all}\" REPEAT=${REPEAT:-2} DURATION=${DURATION:-5} PIN=${PIN:-1}" \
    "WS=$WS IDLE_CONNS=${IDLE_CONNS:-10000} EXAMPLE=$EXAMPLE"
  "$bench_dir/compare.sh"
} | tee "$report"
echo "written to $report" >&2
