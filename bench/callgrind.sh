#!/usr/bin/env bash
# User-space instructions per request of an HTTP server under wrk (or h2load for HTTP/2), or
# per echoed message of a WebSocket server under wsload, counted by callgrind.
#
# This VM has no hardware counters and its wall-clock rates move by up to 25 % between runs;
# instruction counts do not, so they show whether a change to the request path helps before a
# quiet-machine run of bench/run.sh confirms it. Kernel work is not counted (it is the same for
# every server: one read and one write per request, or per 16 pipelined requests).
#
# Usage:
#   bench/callgrind.sh [pipelined|plain|h2|ws] [COMMAND...]
#     COMMAND defaults to cyclone's bench_server; it must listen on $PORT (default 9140).
#     ws: 64 connections echoing 32-byte text messages at /ws (the shared bench's wsload,
#     built by its setup.sh).
#     h2: h2load -c64 -m16 over cleartext HTTP/2 with prior knowledge (bench_server serves it).
#   bench/callgrind.sh pipelined
#   bench/callgrind.sh plain env WORKERS=1 ../shared/bench/peers/target/release/hyper-peer 9140
#   bench/callgrind.sh ws env WORKERS=1 PORT=9140 ../shared/bench/peers/target/release/actix-peer
#   URL_PATH=/api/x HEADER='Authorization: Bearer letmein' bench/callgrind.sh pipelined \
#       target/release/examples/composition --port 9140 --workers 1 --budget 1000000000
#
# URL_PATH (default /) is the path wrk requests; HEADER, if set, one header it sends.
# CONNS (default 64) is wrk's connection count. With CONNS=1 every turn of the server is the
# same (one wake-up, one read of 16 pipelined requests, one write), so two runs give the same
# count to the instruction; with 64 the work a wake-up shares depends on how many connections
# valgrind's slowness lets pile up, which moves a count by up to 2 % between runs.
# CACHE=1 also runs callgrind's cache model and prints first-level instruction and data cache
# misses per request: two servers with the same instruction count can differ by several times
# in how much of their code stays in the instruction cache (it was 234 against hyper's 30 per
# HTTP/2 request on 2026-12-03), which instruction counts alone do not show.
#
# Only the load is counted: the counters are zeroed once the server listens and dumped when
# the load ends (callgrind_control): start-up and shutdown are no part of a request's cost,
# and would weigh differently on servers that answered different numbers of requests.
#
# Prints requests answered and instructions per request; the profile is left in
# bench/logs/callgrind.<pid>.1 for `callgrind_annotate --inclusive=yes`.
set -euo pipefail

cd "$(dirname "$0")/.."
MODE=${1:-pipelined}
shift || true
PORT=${PORT:-9140}
DURATION=${DURATION:-8}
URL_PATH=${URL_PATH:-/}
HEADERS=()
if [ -n "${HEADER:-}" ]; then
    HEADERS=(-H "$HEADER")
fi
BENCH_DIR=${CYCLONE_BENCH_DIR:-../shared/bench}

WSLOAD=$BENCH_DIR/peers/target/release/wsload
case "$MODE" in
    ws) LOADER=wsload ;;
    h2) LOADER=h2load ;;
    *) LOADER=wrk ;;
esac
for tool in valgrind callgrind_control $([ "$LOADER" = wsload ] || echo "$LOADER"); do
    command -v "$tool" >/dev/null || { echo "callgrind.sh: $tool is not installed" >&2; exit 1; }
done
if [ "$MODE" = ws ] && [ ! -x "$WSLOAD" ]; then
    echo "callgrind.sh: $WSLOAD is not built (run $BENCH_DIR/setup.sh)" >&2
    exit 1
fi
if [ $# -eq 0 ]; then
    cargo build --release --example bench_server >&2
    set -- target/release/examples/bench_server --port "$PORT" --workers 1
fi
mkdir -p bench/logs
OUT=bench/logs/callgrind.$$
LOG=bench/logs/callgrind.$$.log

CACHE_ARGS=()
if [ "${CACHE:-0}" = 1 ]; then
    CACHE_ARGS=(--cache-sim=yes)
fi
valgrind --tool=callgrind "${CACHE_ARGS[@]}" --trace-children=yes --callgrind-out-file="$OUT" \
    "$@" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
# valgrind starts slowly; wait (bounded) for the port.
for _ in $(seq 1 100); do
    (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
    sleep 0.2
done
callgrind_control -z "$SERVER" >/dev/null

case "$MODE" in
    pipelined) SCRIPT=(-s "$BENCH_DIR/pipeline.lua"); ARGS=(-- 16) ;;
    plain) SCRIPT=(); ARGS=() ;;
    ws|h2) ;;
    *) echo "callgrind.sh: mode is pipelined, plain, h2 or ws" >&2; exit 2 ;;
esac
if [ "$MODE" = h2 ]; then
    REQUESTS=$(h2load -t1 -c64 -m16 -D "$DURATION" "http://127.0.0.1:$PORT$URL_PATH" 2>&1 \
        | sed -nE 's/^requests: .* ([0-9]+) succeeded.*/\1/p')
elif [ "$MODE" = ws ]; then
    REQUESTS=$("$WSLOAD" echo "ws://127.0.0.1:$PORT/ws" -c 64 -d "$DURATION" -w 1 -s 32 2>&1 \
        | sed -nE 's/^RESULT .*msgs=([0-9]+).*/\1/p')
else
    REQUESTS=$(wrk -t1 -c"${CONNS:-64}" -d"$DURATION" "${HEADERS[@]}" "${SCRIPT[@]}" \
        "http://127.0.0.1:$PORT$URL_PATH" "${ARGS[@]}" \
        | awk '/requests in/ {print $1}')
fi
callgrind_control -d "$SERVER" >/dev/null
kill -TERM "$SERVER"
wait "$SERVER" 2>/dev/null || true
trap - EXIT

# The dump holds what ran between the zeroing and the end of the load.
PROFILE=$OUT.1
INSTRUCTIONS=$(awk '/^totals:/ {print $2}' "$PROFILE" 2>/dev/null || true)
if [ -z "$REQUESTS" ] || [ -z "$INSTRUCTIONS" ] || [ "$REQUESTS" -eq 0 ]; then
    echo "callgrind.sh: no result (see $LOG)" >&2
    exit 1
fi
CACHE_LINE=""
if [ "${CACHE:-0}" = 1 ]; then
    # The dump's columns are named on its `events:` line.
    I1=$(awk '/^events:/ {for (i = 2; i <= NF; i++) col[$i] = i}
        /^totals:/ {print $(col["I1mr"])}' "$PROFILE")
    D1=$(awk '/^events:/ {for (i = 2; i <= NF; i++) col[$i] = i}
        /^totals:/ {print $(col["D1mr"]) + $(col["D1mw"])}' "$PROFILE")
    CACHE_LINE=" i1_misses_per_request=$((I1 / REQUESTS)) d1_misses_per_request=$((D1 / REQUESTS))"
fi
echo "mode=$MODE requests=$REQUESTS instructions_per_request=$((INSTRUCTIONS / REQUESTS))$CACHE_LINE profile=$PROFILE"
