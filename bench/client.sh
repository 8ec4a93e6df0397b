#!/usr/bin/env bash
# client.sh: requests/s of cyclone's pooled AsyncHttpClient against hyper-util's pooled client,
# both driving the same bench_server in one run (a closed loop of GETs, CONCURRENCY in flight).
#
#   bench/client.sh                          # REPEAT=3 rounds of 5 s per client
#   REPEAT=1 DURATION=2 bench/client.sh      # a quick smoke run
#
# bench_server runs on CPU 0 with WORKERS=1; each client runs on CPU 1, one thread (cyclone on
# its loop, hyper on a current-thread tokio runtime). The clients take turns, and the order
# flips every round so that drift on the machine hits both alike. Run it on a quiet machine and
# quote the ratio from one run, never absolute numbers from different runs.
#
# Knobs (defaults): REPEAT=3 DURATION=5 WARMUP=1 CONCURRENCY=64 PORT=18290
#   BUILD=1 (0: use the binaries already built)   PIN=1 (0: no taskset; much noisier)
# Output: the table on stdout and in bench/results/client-<date>.md; raw lines in
# bench/results/client-<date>.log.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

REPEAT=${REPEAT:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONCURRENCY=${CONCURRENCY:-64}
PORT=${PORT:-18290}
BUILD=${BUILD:-1}
PIN=${PIN:-1}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
server_bin=target/release/examples/bench_server
client_bin=bench/client/target/release/cyclone-client-bench

if [[ "$BUILD" == 1 ]]; then
  cargo build --release --example bench_server >&2
  cargo build --release --manifest-path bench/client/Cargo.toml >&2
fi

if [[ "$PIN" == 1 ]]; then
  server_cpu=(taskset -c 0)
  client_cpu=(taskset -c 1)
else
  server_cpu=()
  client_cpu=()
fi

stamp=$(date +%Y-%m-%d-%H%M%S)
mkdir -p bench/results
log=bench/results/client-$stamp.log
report=bench/results/client-$stamp.md

# The server runs in a session of its own so that it is stopped by its own pid and group.
WORKERS=1 setsid "${server_cpu[@]}" "$server_bin" --port "$PORT" >>"$log" 2>&1 &
server_pid=$!
stop_server() {
  kill -TERM -- "-$server_pid" 2>/dev/null || return 0
  for _ in $(seq 60); do
    kill -0 "$server_pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$server_pid" 2>/dev/null || true
}
trap stop_server EXIT

for _ in $(seq 50); do
  if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { echo "bench_server exited; see $log" >&2; exit 1; }
  sleep 0.1
done

# CPU seconds (user + system) a process has used, from /proc/PID/stat (USER_HZ = 100).
cpu_seconds() {
  awk '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / 100 }' "/proc/$1/stat"
}

# Busy CPU seconds of the whole machine, all cores, from /proc/stat (idle and iowait left out).
machine_busy_seconds() {
  awk '$1 == "cpu" { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / 100; exit }' /proc/stat
}

declare -A rps_runs cores_runs server_runs errors_total
for client in cyclone hyper; do
  rps_runs[$client]=""; cores_runs[$client]=""; server_runs[$client]=""; errors_total[$client]=0
done
busy_runs=()
timing=$(mktemp)
trap 'stop_server; rm -f "$timing"' EXIT

for round in $(seq "$REPEAT"); do
  if (( round % 2 )); then order=(cyclone hyper); else order=(hyper cyclone); fi
  for client in "${order[@]}"; do
    before=$(cpu_seconds "$server_pid")
    machine_before=$(machine_busy_seconds)
    started=$(date +%s.%N)
    # `time` gives the client's own CPU over the whole run, to tell other work apart from ours.
    line=$( { TIMEFORMAT='%U %S'; time "${client_cpu[@]}" "$client_bin" \
      --url "http://127.0.0.1:$PORT/" --client "$client" --concurrency "$CONCURRENCY" \
      --duration "$DURATION" --warmup "$WARMUP" 2>>"$log"; } 2>"$timing" \
      | tee -a "$log" | grep '^RESULT' || true)
    ended=$(date +%s.%N)
    after=$(cpu_seconds "$server_pid")
    machine_after=$(machine_busy_seconds)
    if [[ -z "$line" ]]; then
      echo "round $round: $client printed no RESULT line; see $log" >&2
      exit 1
    fi
    field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
    rps_runs[$client]+="$(field rps) "
    cores_runs[$client]+="$(field client_cores) "
    # The server's cores over the whole client run, warm-up included (the load is the same).
    server_runs[$client]+="$(awk -v a="$before" -v b="$after" -v s="$started" -v e="$ended" \
      'BEGIN { printf "%.2f", (b - a) / (e - s) }') "
    errors_total[$client]=$(( ${errors_total[$client]} + $(field errors) ))
    echo "round $round: $line" >&2
    # Cores that neither the server nor the client used meanwhile: other work skews the run.
    others=$(awk -v m0="$machine_before" -v m1="$machine_after" -v s0="$before" -v s1="$after" \
      -v s="$started" -v e="$ended" -v client="$(cat "$timing")" 'BEGIN {
        split(client, c, " "); v = ((m1 - m0) - (s1 - s0) - (c[1] + c[2])) / (e - s)
        printf "%.2f", v < 0 ? 0 : v }')
    if awk -v o="$others" 'BEGIN { exit !(o >= 0.05) }'; then
      busy_runs+=("round $round $client: $others")
      echo "  WARNING: other processes used $others cores during this run" >&2
    fi
  done
done

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

{
  echo "## HTTP client: cyclone AsyncHttpClient vs hyper-util legacy Client"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, PIN=$PIN, GET / from bench_server (WORKERS=1)," \
    "concurrency $CONCURRENCY, ${DURATION} s after ${WARMUP} s warm-up, $REPEAT round(s)"
  echo
  echo "| client | rps (median) | runs | errors | client cores | server cores |"
  echo "|---|---:|---|---:|---:|---:|"
  for client in cyclone hyper; do
    read -ra runs <<<"${rps_runs[$client]}"
    read -ra cores <<<"${cores_runs[$client]}"
    read -ra server <<<"${server_runs[$client]}"
    printf '| %s | %.0f | %s | %d | %.2f | %.2f |\n' "$client" "$(median "${runs[@]}")" \
      "${runs[*]}" "${errors_total[$client]}" "$(median "${cores[@]}")" "$(median "${server[@]}")"
  done
  read -ra cyclone_runs <<<"${rps_runs[cyclone]}"
  read -ra hyper_runs <<<"${rps_runs[hyper]}"
  read -ra cyclone_cores <<<"${cores_runs[cyclone]}"
  read -ra hyper_cores <<<"${cores_runs[hyper]}"
  awk -v c="$(median "${cyclone_runs[@]}")" -v h="$(median "${hyper_runs[@]}")" \
    -v cc="$(median "${cyclone_cores[@]}")" -v hc="$(median "${hyper_cores[@]}")" 'BEGIN {
      printf "\nratio cyclone/hyper: %.2f (rps), %.2f (rps per client core)\n",
        c / h, (cc > 0 && hc > 0) ? (c / cc) / (h / hc) : 0 }'
  if (( ${#busy_runs[@]} )); then
    echo
    echo "WARNING: other processes used CPU during $(printf '%s cores; ' "${busy_runs[@]}")these" \
      "numbers are suspect."
  fi
} | tee "$report"
echo "written to $report" >&2
