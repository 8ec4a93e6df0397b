#!/usr/bin/env bash
# h2load.sh: HTTP/2 requests/s, cyclone against actix-web's and hyper's HTTP/2 servers in one run.
#
#   h2c   cleartext HTTP/2 with prior knowledge (the connection preface on a plain port)
#   tls   HTTP/2 over TLS 1.3, chosen by ALPN
#
#   bench/h2load.sh                                   # every server, both modes, ~2 min
#   DURATION=3 WARMUP=1 bench/h2load.sh               # a quick smoke run
#   ONLY="cyclone hyper" MODES=h2c bench/h2load.sh
#
# Each server runs one worker on CPU 0 (taskset), h2load one thread on CPU 1, one server at a
# time, in the same run: GET / answered "Hello, world" (cyclone's examples/bench_server.rs,
# bench/h2/ for the peers). Run it on a quiet machine and quote ratios from one run.
#
# Knobs (defaults): DURATION=10 WARMUP=2 CLIENTS=64 STREAMS=16 (h2load -c and -m: concurrent
#   streams per connection) PORT=18480 ONLY="cyclone actix hyper" MODES="h2c tls" BUILD=1
#   (0: use the binaries built) PIN=1 (0: no taskset)
# Needs h2load (Debian's nghttp2-client) and openssl. Output: the table on stdout and in
# bench/results/h2load-<date>.md.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CLIENTS=${CLIENTS:-64}
STREAMS=${STREAMS:-16}
PORT=${PORT:-18480}
ONLY=${ONLY:-"cyclone actix hyper"}
MODES=${MODES:-"h2c tls"}
BUILD=${BUILD:-1}
PIN=${PIN:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. bench/lib.sh
for tool in h2load openssl; do
  command -v "$tool" >/dev/null || {
    echo "h2load.sh: needs $tool (apt-get install nghttp2-client openssl)" >&2
    exit 2
  }
done
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    bench_stop "$server_pid"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A throwaway certificate for 127.0.0.1 (h2load does not verify it).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

peers_dir=${CARGO_TARGET_DIR:-bench/h2/target}/release
if [[ "$BUILD" == 1 ]]; then
  cargo build --release --example bench_server >&2
  cargo build --release --manifest-path bench/h2/Cargo.toml >&2
fi

bench_pin

start_server() {
  local server=$1 mode=$2 tls_args=() tls_env=()
  if [[ "$mode" == tls ]]; then
    tls_args=(--certfile "$work/cert.pem" --keyfile "$work/key.pem")
    tls_env=(CERTFILE="$work/cert.pem" KEYFILE="$work/key.pem")
  fi
  case "$server" in
    cyclone)
      "${server_cpu[@]}" target/release/examples/bench_server --logging none --port "$PORT" \
        --workers 1 "${tls_args[@]}" >/dev/null &
      ;;
    actix) env PORT="$PORT" WORKERS=1 "${tls_env[@]}" "${server_cpu[@]}" "$peers_dir/actix_h2" >/dev/null 2>&1 & ;;
    hyper) env PORT="$PORT" WORKERS=1 "${tls_env[@]}" "${server_cpu[@]}" "$peers_dir/hyper_h2" >/dev/null 2>&1 & ;;
  esac
  server_pid=$!
  bench_wait_port "$PORT" "$server"
}
stop_server() {
  bench_stop "$server_pid"
  server_pid=""
}

url_of() {
  case "$1" in
    h2c) echo "http://127.0.0.1:$PORT/" ;;
    tls) echo "https://127.0.0.1:$PORT/" ;;
  esac
}

# h2load's summary: requests/s, and whether every request succeeded over h2.
measure() {
  local url=$1 seconds=$2
  "${load_cpu[@]}" h2load -t1 -c"$CLIENTS" -m"$STREAMS" -D"$seconds" "$url" 2>&1
}

stamp=$(date +%Y-%m-%d-%H%M%S)
mkdir -p bench/results
report=bench/results/h2load-$stamp.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit+=" (with uncommitted changes)"
declare -A result
for mode in $MODES; do
  for server in $ONLY; do
    start_server "$server" "$mode"
    url=$(url_of "$mode")
    measure "$url" "$WARMUP" >/dev/null
    out=$(measure "$url" "$DURATION")
    if ! grep -q 'Application protocol: h2' <<<"$out"; then
      echo "h2load.sh: $server did not speak h2 in $mode mode:" >&2
      echo "$out" >&2
      exit 1
    fi
    rps=$(awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out")
    failed=$(awk '/^requests:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^failed/) print $i }' <<<"$out")
    errored=$(awk '/^requests:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^errored/) print $i }' <<<"$out")
    result[$server,$mode]="$rps|$failed|$errored"
    echo "$server $mode: $rps requests/s (failed $failed, errored $errored)" >&2
    stop_server
  done
done

{
  echo "# HTTP/2 hello, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "cyclone $commit; $(nproc) CPUs; one worker per server; h2load -t1 -c$CLIENTS -m$STREAMS" \
    "-D${DURATION}s (warm-up ${WARMUP}s); PIN=$PIN"
  echo
  echo "| mode | server | requests/s | cyclone vs it | failed | errored |"
  echo "|---|---|---:|---:|---:|---:|"
  for mode in $MODES; do
    base=${result[cyclone,$mode]:-}
    base=${base%%|*}
    for server in $ONLY; do
      IFS='|' read -r rps failed errored <<<"${result[$server,$mode]}"
      ratio=""
      if [[ -n "$base" && "$server" != cyclone ]]; then
        ratio=$(awk -v a="$base" -v b="$rps" 'BEGIN { if (b > 0) printf "%.2fx", a / b }')
      fi
      echo "| $mode | $server | $rps | $ratio | $failed | $errored |"
    done
  done
} | tee "$report"
echo "written to $report" >&2
