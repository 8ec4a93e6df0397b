# lib.sh: what the benchmark scripts share; sourced (`. "$(dirname "$0")/lib.sh"`), not run.
#
#   bench_pin                  sets server_cpu and load_cpu: `taskset -c 0` / `taskset -c 1`
#                              when PIN=1 and the machine has two CPUs or more, else empty
#   bench_wait_port PORT WHAT  waits (at most 10 s) until 127.0.0.1:PORT accepts; exits 1
#                              naming WHAT if it never does
#   bench_stop PID             stops a server started in the background and reaps it

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
