# lib.sh: what the benchmark scripts share; sourced (`. "$(dirname "$0")/lib.sh"`), not run.
#
#   bench_pin                  sets server_cpu and load_cpu: `taskset -c 0` / `taskset -c 1`
#                              when PIN=1 and the machine has two CPUs or more, else empty
#   bench_wait_port PORT WHAT  waits (at most 10 s) until 127.0.0.1:PORT accepts; exits 1
#                              naming WHAT if it never does
#   bench_stop PID             stops a server started in the background and reaps it
#   bench_median DIGITS V...   the middle value; for an even count the mean of the two middle
#                              ones, with DIGITS decimals
#   bench_range V...           the smallest and the largest value, as `lo–hi`

bench_pin() {
  server_cpu=()
  load_cpu=()
  if [[ "${PIN:-1}" == 1 ]] && command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_cpu=(taskset -c 0)
    load_cpu=(taskset -c 1)
  fi
}

bench_wait_port() {
  local port=$1 what=$2
  for _ in $(seq 100); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "$(basename "$0"): $what did not listen on $port" >&2
  exit 1
}

bench_stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

bench_median() {
  local digits=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v digits="$digits" '{ v[NR] = $1 }
    END { m = int((NR + 1) / 2); if (NR % 2) print v[m]; else printf "%.*f\n", digits, (v[m] + v[m + 1]) / 2 }'
}

bench_range() {
  printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s\n", lo, hi }'
}
