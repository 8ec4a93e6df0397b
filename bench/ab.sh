#!/usr/bin/env bash
# ab.sh: cyclone and the peer servers measured in alternation, in short runs, so that the
# machine's drift lands on both sides of every ratio.
#
#   EXAMPLE=hello bench/ab.sh                          # hello vs actix-web and hyper, ~4 min
#   EXAMPLE=bench_server LOADS=pipelined ROUNDS=9 bench/ab.sh
#
# This VM's rates move by up to 25 % within minutes (actix-web's pipelined rate went from
# 530 k to 745 k requests/s in seven minutes on 2026-12-03), while bench/run.sh measures one
# server after another, a minute apart: a ratio from it mixes the servers' difference with the
# machine's. Here every server stays up (pinned to CPU 0, idle while another is measured) and
# each round runs one short wrk load (CPU 1) against each in turn, the order rotating per
# round; a round's ratio compares runs seconds apart, and the median of the rounds' ratios is
# reported with their spread.
#
# Knobs:
#   EXAMPLE=hello     cyclone's example (run with --logging none --port P --workers 1)
#   PEERS="actix-web hyper"  peers from the shared harness (CYCLONE_BENCH_DIR, default
#                     ../shared/bench; built by its `setup.sh peers`)
#   LOADS="c64 pipelined"  c64: wrk -t1 -c64; pipelined: the same with 16 requests pipelined
#   ROUNDS=7          rounds per load; DURATION=3 seconds a run, after WARMUP=1
#   BUILD=1           0: use target/release/examples/$EXAMPLE as it is
#   CPU_QUOTA=50      each server limited to this percentage of its core (a CPU cgroup of its
#                     own, 10 ms periods; needs root): the load then outruns every server, so
#                     the rates compare what the servers can answer, not wrk's ceiling
# Output: per-round rates and the median ratios on stdout and in bench/results/ab-<date>.md.
#
# Each run also reads the server's CPU time (/proc/PID/stat, all its threads) and reports
# requests per CPU-second of the server: when one wrk thread is the limit (near a million
# pipelined requests a second here) two servers' rates tie, and only the CPU each spent
# answering them still tells them apart. It also reads how busy the load's core was
# (/proc/stat) and each server's share of its own core, and says when a load was bound by wrk:
# its core busy (>= 95 %) while a server had time to spare (< 97 % of its core). Then the
# rates sit at the load tool's ceiling, and their ratio is noise around 1. CPU_QUOTA takes it
# out: with each server held to part of its core, a load that leaves wrk's core spare is
# bound by the server, as a faster load generator would leave it.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. bench/lib.sh
bench_dir=${CYCLONE_BENCH_DIR:-../shared/bench}
EXAMPLE=${EXAMPLE:-hello}
PEERS=${PEERS:-actix-web hyper}
LOADS=${LOADS:-c64 pipelined}
ROUNDS=${ROUNDS:-7}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
BUILD=${BUILD:-1}
CPU_QUOTA=${CPU_QUOTA:-}
((ROUNDS >= 1 && ROUNDS <= 50)) || { echo "ab.sh: ROUNDS must be within 1..50" >&2; exit 2; }
command -v wrk >/dev/null || { echo "ab.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
if [[ -n "$CPU_QUOTA" ]]; then
  ((CPU_QUOTA >= 5 && CPU_QUOTA <= 100)) || { echo "ab.sh: CPU_QUOTA must be within 5..100" >&2; exit 2; }
fi

if [[ "$BUILD" == 1 ]]; then
  cargo build --release --example "$EXAMPLE" >&2
fi
bench_pin

# name, command (run with `bash -c`, PORT and WORKERS in its environment)
names=("cyclone-$EXAMPLE")
cmds=("exec target/release/examples/$EXAMPLE --logging none --port \$PORT --workers 1")
for peer in $PEERS; do
  case $peer in
    actix-web) binary=actix-peer ;;
    hyper) binary=hyper-peer ;;
    *) echo "ab.sh: unknown peer $peer (actix-web, hyper)" >&2; exit 2 ;;
  esac
  path=$bench_dir/peers/target/release/$binary
  [[ -x "$path" ]] || { echo "ab.sh: $path is missing: run $bench_dir/setup.sh peers" >&2; exit 2; }
  names+=("$peer")
  cmds+=("exec $path")
done

# The CPU cgroups CPU_QUOTA makes, one a server: cgroup v2's `cpu.max` where the unified
# hierarchy has the cpu controller, else v1's cpu hierarchy (CFS quota and period).
cgroup_root=""
if [[ -n "$CPU_QUOTA" ]]; then
  if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    cgroup_root=/sys/fs/cgroup
  elif [[ -w /sys/fs/cgroup/cpu && -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]]; then
    cgroup_root=/sys/fs/cgroup/cpu
  else
    echo "ab.sh: CPU_QUOTA needs a writable CPU cgroup (/sys/fs/cgroup)" >&2
    exit 2
  fi
fi
cgroups=()

# limit_cpu PID INDEX: moves the server into a cgroup of its own holding it to CPU_QUOTA % of
# a core, in 10 ms periods (short, so that a throttled server waits at most a few ms).
limit_cpu() {
  local group=$cgroup_root/cyclone-ab-$$-$2 period=10000
  local quota=$((CPU_QUOTA * period / 100))
  mkdir "$group"
  cgroups+=("$group")
  if [[ -e "$group/cpu.max" ]]; then
    echo "$quota $period" >"$group/cpu.max"
  else
    echo "$period" >"$group/cpu.cfs_period_us"
    echo "$quota" >"$group/cpu.cfs_quota_us"
  fi
  echo "$1" >"$group/cgroup.procs"
}

pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for group in "${cgroups[@]}"; do
    rmdir "$group" 2>/dev/null || true
  done
  rm -f "/tmp/ab-$$-wrk.out"
}
trap stop_all EXIT

port_base=${PORT_BASE:-18300}
ports=()
for i in "${!names[@]}"; do
  port=$((port_base + i))
  ports+=("$port")
  (export PORT=$port WORKERS=1 && exec setsid "${server_cpu[@]}" bash -c "${cmds[$i]}") \
    >"/tmp/ab-$$-$i.log" 2>&1 &
  pids+=("$!")
  bench_wait_port "$port" "${names[$i]}"
  # The subshell execs through setsid, taskset and bash into the server: same PID.
  [[ -r /proc/${pids[$i]}/stat ]] || { echo "ab.sh: no /proc entry for ${names[$i]}" >&2; exit 2; }
  if [[ -n "$CPU_QUOTA" ]]; then
    limit_cpu "${pids[$i]}" "$i"
  fi
done

# cpu_ticks PID: the process's user and system time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# core_times CPU: busy and total clock ticks of one CPU so far (/proc/stat: user nice system
# idle iowait irq softirq steal; idle and iowait are not busy).
core_times() {
  awk -v cpu="cpu$1" '$1 == cpu { total = 0; for (f = 2; f <= 9; f++) total += $f
    print total - $5 - $6, total }' /proc/stat
}
# The load's core, when pinned (bench_pin's `taskset -c 1`).
load_core=${load_cpu[2]:-}

# rate LOAD INDEX: requests per second of one run, requests per CPU-second of the server, the
# server's CPU share (cores), and the load core's busy share (or - when the load is not pinned).
rate() {
  local load=$1 port=${ports[$2]} pid=${pids[$2]} args=(-t1 -c64)
  if [[ "$load" == pipelined ]]; then
    args+=(-s "$bench_dir/pipeline.lua")
  fi
  local extra=()
  [[ "$load" == pipelined ]] && extra=(-- 16)
  if ((WARMUP > 0)); then
    "${load_cpu[@]}" wrk "${args[@]}" -d"${WARMUP}s" "http://127.0.0.1:$port/" "${extra[@]}" >/dev/null
  fi
  local before after core_before=(0 0) core_after=(0 0)
  [[ -n "$load_core" ]] && read -r -a core_before < <(core_times "$load_core")
  before=$(cpu_ticks "$pid")
  "${load_cpu[@]}" wrk "${args[@]}" -d"${DURATION}s" "http://127.0.0.1:$port/" "${extra[@]}" \
    >"/tmp/ab-$$-wrk.out"
  after=$(cpu_ticks "$pid")
  [[ -n "$load_core" ]] && read -r -a core_after < <(core_times "$load_core")
  awk -v ticks=$((after - before)) -v hz="$ticks_per_second" -v seconds="$DURATION" \
    -v busy=$((core_after[0] - core_before[0])) -v total=$((core_after[1] - core_before[1])) '
    / requests in / { requests = $1 }
    /^Requests\/sec:/ { rate = $2 }
    END {
      printf "%.0f %.0f %.2f %s\n", rate, (ticks > 0 ? requests * hz / ticks : 0),
        ticks / hz / seconds, (total > 0 ? sprintf("%.3f", busy / total) : "-")
    }' "/tmp/ab-$$-wrk.out"
}

median() { bench_median 3 "$@"; }

stamp=$(date +%Y-%m-%d-%H%M%S)
mkdir -p bench/results
report=bench/results/ab-$stamp.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit+=" (with uncommitted changes)"
{
  echo "# cyclone-$EXAMPLE against ${PEERS// /, }, in alternation, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "cyclone $commit; $(nproc) CPUs; ROUNDS=$ROUNDS DURATION=${DURATION}s WARMUP=${WARMUP}s;" \
    "servers on CPU 0 (1 worker each${CPU_QUOTA:+, each held to $CPU_QUOTA % of the core})," \
    "wrk -t1 -c64 on CPU 1; load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$report"

n=${#names[@]}
for load in $LOADS; do
  declare -A ratios=() cpu_ratios=() shares=() load_busy=()
  {
    echo
    echo "## $load"
    echo
    printf '| round |'
    printf ' %s |' "${names[@]}"
    for ((i = 1; i < n; i++)); do printf ' cyclone / %s |' "${names[$i]}"; done
    for ((i = 1; i < n; i++)); do printf ' per CPU-s, cyclone / %s |' "${names[$i]}"; done
    echo
    printf '|---|'
    for ((i = 0; i < n + 2 * (n - 1); i++)); do printf -- '---:|'; done
    echo
  } | tee -a "$report"
  for ((round = 1; round <= ROUNDS; round++)); do
    declare -A got=() per_cpu=()
    for ((k = 0; k < n; k++)); do
      i=$(((k + round) % n))
      read -r got[$i] per_cpu[$i] share busy < <(rate "$load" "$i")
      shares[$i]+=" $share"
      [[ "$busy" != - ]] && load_busy[$i]+=" $busy"
    done
    line="| $round |"
    for ((i = 0; i < n; i++)); do line+=" ${got[$i]} |"; done
    for ((i = 1; i < n; i++)); do
      r=$(awk -v a="${got[0]}" -v b="${got[$i]}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }')
      ratios[$i]+=" $r"
      line+=" $r |"
    done
    for ((i = 1; i < n; i++)); do
      r=$(awk -v a="${per_cpu[0]}" -v b="${per_cpu[$i]}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }')
      cpu_ratios[$i]+=" $r"
      line+=" $r |"
    done
    echo "$line" | tee -a "$report"
  done
  {
    echo
    for ((i = 1; i < n; i++)); do
      # shellcheck disable=SC2086
      set -- ${ratios[$i]}
      echo "- $load, cyclone-$EXAMPLE / ${names[$i]}: median **$(median "$@")** (rounds $(bench_range "$@"))"
    done
    for ((i = 1; i < n; i++)); do
      # shellcheck disable=SC2086
      set -- ${cpu_ratios[$i]}
      echo "- $load, requests per server CPU-second, cyclone-$EXAMPLE / ${names[$i]}:" \
        "median **$(median "$@")** (rounds $(bench_range "$@"))"
    done
    line="- $load, CPU (median of the rounds): servers' share of their core"
    # A server has time to spare below 97 % of what it may use: its core, or its quota.
    spare=0 usable=$(awk -v q="${CPU_QUOTA:-100}" 'BEGIN { printf "%.3f", 0.97 * q / 100 }')
    for ((i = 0; i < n; i++)); do
      # shellcheck disable=SC2086
      share=$(median ${shares[$i]})
      line+=" ${names[$i]} $share,"
      awk -v s="$share" -v u="$usable" 'BEGIN { exit !(s < u) }' && spare=$((spare + 1))
    done
    if [[ -n "$load_core" ]]; then
      # shellcheck disable=SC2086
      busy=$(median ${load_busy[*]})
      line+=" wrk's core (CPU $load_core) busy $busy"
      echo "$line"
      if ((spare > 0)) && awk -v b="$busy" 'BEGIN { exit !(b >= 0.95) }'; then
        echo "- $load: **bound by wrk**: its core was busy while a server had time to spare;" \
          "the rates sit at the load tool's ceiling, their ratio is noise around 1: compare" \
          "per CPU-second"
      fi
    else
      echo "${line%,}"
    fi
  } | tee -a "$report"
  unset ratios cpu_ratios shares load_busy
done
echo
echo "report: $report"
