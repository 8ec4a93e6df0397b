#!/usr/bin/env bash
# site.sh: a site's two workloads, cyclone against its peers in one run.
#
#   fortunes    TechEmpower's "fortunes" page: 12 rows read from SQLite on a blocking thread,
#               one added at request time, sorted, HTML-escaped, rendered through a layout
#               template. cyclone (minijinja, run_in_executor) against actix-web (askama,
#               web::block) and Tornado (its own templates, sqlite3 through run_in_executor).
#   fortunes-askama  the same page with the same engine on both Rust servers: cyclone renders
#               the askama template actix-web's peer compiles in (at /fortunes-askama), so
#               the ratio is the frameworks' alone, without minijinja's cost (Tornado: -).
#   fortunes-minijinja  the same page with minijinja on both Rust servers: actix-web's peer
#               renders the same template files with minijinja (at /fortunes-minijinja),
#               cyclone serves /fortunes, so the ratio is the frameworks' with cyclone's own
#               engine on both (Tornado: -).
#   static-4k   a 4 KiB file from the static folder: cyclone's StaticFileHandler against
#   static-1m   actix-files (and Tornado's StaticFileHandler), and the same for a 1 MiB file.
#
#   bench/site.sh                                       # every server and test, ~3 min
#   DURATION=2 WARMUP=1 bench/site.sh                   # a quick smoke run
#   ONLY="cyclone actix" TESTS=fortunes bench/site.sh
#
# Each server runs one worker on CPU 0 (taskset), wrk one thread on CPU 1, one server at a
# time, in the same run. Run it on a quiet machine and quote ratios from one run, never absolute
# numbers from different runs. The servers' answers are checked (13 rows, escaped) first.
#
# Knobs (defaults): DURATION=10 WARMUP=2 CONNS=64 PORT=18380 ONLY="cyclone actix tornado"
#   ROUNDS=1 (N: every server and test N times, a round after another; medians and ranges)
#   TESTS="fortunes fortunes-askama fortunes-minijinja static-4k static-1m" BUILD=1 (0: use
#   the binaries built) PIN=1 (0: no taskset) TORNADO_PYTHON (a python with tornado; else
#   bench/site/.venv is made with pip)
#   LOCKING=exclusive (SQLite keeps each connection's shared lock between queries, in all three
#   servers; normal: SQLite's default, a lock, a journal check and a header read per query)
# Needs wrk and python3. Output: the table on stdout and in bench/results/site-<date>.md.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-64}
PORT=${PORT:-18380}
ROUNDS=${ROUNDS:-1}
((ROUNDS >= 1 && ROUNDS <= 20)) || { echo "site.sh: ROUNDS must be within 1..20" >&2; exit 2; }
ONLY=${ONLY:-"cyclone actix tornado"}
TESTS=${TESTS:-"fortunes fortunes-askama fortunes-minijinja static-4k static-1m"}
BUILD=${BUILD:-1}
PIN=${PIN:-1}
LOCKING=${LOCKING:-exclusive}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. bench/lib.sh
command -v wrk >/dev/null || { echo "site.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    bench_stop "$server_pid"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The data every server reads: TechEmpower's twelve fortunes and two static files.
python3 - "$work" <<'PY'
import os, sqlite3, sys
work = sys.argv[1]
fortunes = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \u2014 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af",
]
db = sqlite3.connect(os.path.join(work, "fortunes.db"))
db.execute("CREATE TABLE Fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL)")
db.executemany("INSERT INTO Fortune (id, message) VALUES (?, ?)", enumerate(fortunes, 1))
db.commit()
os.makedirs(os.path.join(work, "static"))
with open(os.path.join(work, "static", "4k.bin"), "wb") as f:
    f.write(os.urandom(4096))
with open(os.path.join(work, "static", "1m.bin"), "wb") as f:
    f.write(os.urandom(1024 * 1024))
PY

target_dir=${CARGO_TARGET_DIR:-bench/site/target}
if [[ "$BUILD" == 1 ]]; then
  cargo build --release --manifest-path bench/site/Cargo.toml >&2
fi

python=""
if [[ " $ONLY " == *" tornado "* ]]; then
  python=${TORNADO_PYTHON:-}
  if [[ -z "$python" ]]; then
    if [[ ! -x bench/site/.venv/bin/python ]]; then
      python3 -m venv bench/site/.venv
      bench/site/.venv/bin/pip install -q "tornado>=6.5,<7"
    fi
    python=bench/site/.venv/bin/python
  fi
fi

bench_pin

args=(--port "$PORT" --db "$work/fortunes.db" --static "$work/static" --locking "$LOCKING")
start_server() {
  case "$1" in
    cyclone) "${server_cpu[@]}" "$target_dir/release/cyclone_site" "${args[@]}" --workers 1 & ;;
    actix) "${server_cpu[@]}" "$target_dir/release/actix_site" "${args[@]}" --workers 1 & ;;
    tornado) "${server_cpu[@]}" "$python" bench/site/tornado_site.py "${args[@]}" & ;;
  esac
  server_pid=$!
  bench_wait_port "$PORT" "$1"
}
stop_server() {
  bench_stop "$server_pid"
  server_pid=""
}

# The path of test $2 on server $1; nothing when the server has no such page.
path_of() {
  case "$2" in
    fortunes) echo /fortunes ;;
    fortunes-askama)
      case "$1" in
        cyclone) echo /fortunes-askama ;;
        actix) echo /fortunes ;;
      esac ;;
    fortunes-minijinja)
      case "$1" in
        cyclone) echo /fortunes ;;
        actix) echo /fortunes-minijinja ;;
      esac ;;
    static-4k) echo /static/4k.bin ;;
    static-1m) echo /static/1m.bin ;;
  esac
}

# Every server must answer alike before anything is measured (each of its fortunes pages).
check() {
  local server=$1 path
  for path in $(for test in fortunes fortunes-askama fortunes-minijinja; do
    path_of "$server" "$test"
  done | sort -u); do
    check_page "$server" "$path"
  done
}
check_page() {
  local server=$1 path=$2 page
  page=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
    "http://127.0.0.1:$PORT$path")
  local rows
  rows=$(grep -o '<td>' <<<"$page" | wc -l)
  # Escaped as entities, named (&lt;) or numbered (&#60;), never as a live tag.
  if [[ "$rows" != 26 ]] || grep -q '<script>' <<<"$page" || ! grep -q 'script&[#a-z0-9]*;alert(' <<<"$page" \
    || ! grep -q 'Additional fortune added at request time.' <<<"$page"; then
    echo "site.sh: $server's fortunes page at $path is wrong:" >&2
    echo "$page" >&2
    exit 1
  fi
}

stamp=$(date +%Y-%m-%d-%H%M%S)
mkdir -p bench/results
report=bench/results/site-$stamp.md
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit+=" (with uncommitted changes)"
declare -A result measured
for ((round = 1; round <= ROUNDS; round++)); do
  for server in $ONLY; do
    start_server "$server"
    check "$server"
    for test in $TESTS; do
      path=$(path_of "$server" "$test")
      if [[ -z "$path" ]]; then
        continue
      fi
      # Two tests can share a server's page (cyclone's /fortunes is both `fortunes` and
      # `fortunes-minijinja`): measured once a round.
      if [[ -n "${measured[$round,$server,$path]:-}" ]]; then
        result[$round,$server,$test]=${measured[$round,$server,$path]}
        continue
      fi
      url="http://127.0.0.1:$PORT$path"
      "${load_cpu[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null
      out=$("${load_cpu[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$url")
      rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
      p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
      errors=$(awk '/Non-2xx|Socket errors/ { print }' <<<"$out" | tr '\n' ' ')
      result[$round,$server,$test]="$rps|$p99|$errors"
      measured[$round,$server,$path]=${result[$round,$server,$test]}
      echo "round $round: $server $test: $rps requests/s, p99 $p99 $errors" >&2
    done
    stop_server
  done
done

{
  echo "# site workloads, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "cyclone $commit; $(nproc) CPUs; one worker per server; wrk -t1 -c$CONNS -d${DURATION}s" \
    "(warm-up ${WARMUP}s); PIN=$PIN; LOCKING=$LOCKING"
  echo
  if ((ROUNDS > 1)); then
    echo "ROUNDS=$ROUNDS: every server and test once a round; requests/s is the median of the"
    echo "rounds (each round's in brackets), vs cyclone the median of the rounds' ratios (their range)."
    echo
  fi
  echo "| test | server | requests/s | p99 latency | vs cyclone | errors |"
  echo "|---|---|---:|---:|---:|---|"
  for test in $TESTS; do
    for server in $ONLY; do
      rates=() p99s=() ratios=() errors=""
      for ((round = 1; round <= ROUNDS; round++)); do
        [[ -n "${result[$round,$server,$test]:-}" ]] || continue
        IFS='|' read -r rps p99 error <<<"${result[$round,$server,$test]}"
        rates+=("$rps")
        p99s+=("$p99")
        errors+=$error
        base=${result[$round,cyclone,$test]:-}
        base=${base%%|*}
        if [[ -n "$base" && "$server" != cyclone ]]; then
          ratios+=("$(awk -v a="$base" -v b="$rps" 'BEGIN { if (b + 0 > 0) printf "%.3f", a / b }')")
        fi
      done
      if ((${#rates[@]} == 0)); then
        echo "| $test | $server | - | - |  |  |"
        continue
      fi
      rate=$(bench_median 2 "${rates[@]}")
      p99=$(printf '%s / ' "${p99s[@]}")
      p99=${p99% / }
      ratio=""
      if ((${#ratios[@]} > 0)); then
        ratio="$(bench_median 2 "${ratios[@]}" | awk '{ printf "%.2fx", $1 }')"
        if ((${#ratios[@]} > 1)); then
          ratio+=" ($(bench_range "${ratios[@]}"))"
        fi
      fi
      if ((ROUNDS > 1)); then
        all=$(printf '%s / ' "${rates[@]}")
        rate+=" (${all% / })"
      fi
      echo "| $test | $server | $rate | $p99 | $ratio | $errors |"
    done
  done
} | tee "$report"
echo "written to $report" >&2
