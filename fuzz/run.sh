#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 60), one after another, and prints the
# executions and coverage each reached. Needs the nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`).
#
#   fuzz/run.sh [SECONDS] [TARGET...]     # all targets, or the ones named
#
# Each target starts from its committed corpus (fuzz/corpus/<target>, only read) and writes
# what it finds to fuzz/target/work/<target>, so a run never touches the committed files;
# `fuzz/run.sh --merge` then adds the inputs that reach new coverage to fuzz/corpus.
# A crash leaves its input in fuzz/artifacts/<target>/ and makes the script exit 1 at the end
# (the other targets still run). SANITIZER=address runs under ASan (slower; default none:
# the library forbids unsafe code, and debug assertions and overflow checks stay on).
set -uo pipefail
cd "$(dirname "$0")"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
sanitizer="${SANITIZER:-none}"

targets() { sed -n 's/^ *("\([a-z_0-9]*\)", .*::check),$/\1/p' src/lib.rs; }

if [[ "${1:-}" == "--merge" ]]; then
  shift
  for target in ${@:-$(targets)}; do
    mkdir -p "target/work/$target"
    cargo +nightly fuzz run -s "$sanitizer" "$target" "corpus/$target" "target/work/$target" \
      -- -merge=1 2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true
  done
  exit 0
fi

seconds="${1:-60}"
shift || true
selected=("$@")
[[ ${#selected[@]} -eq 0 ]] && mapfile -t selected < <(targets)

cargo +nightly fuzz build -s "$sanitizer" >/dev/null || exit 1
mkdir -p target/work target/logs
summary=target/logs/summary.txt
: >"$summary"
failed=0
printf '%-22s %8s %14s %10s %8s %s\n' target seconds executions exec/s cov result | tee -a "$summary"
for target in "${selected[@]}"; do
  log="target/logs/$target.log"
  mkdir -p "target/work/$target"
  cargo +nightly fuzz run -s "$sanitizer" "$target" "target/work/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 >"$log" 2>&1
  status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  if [[ $status -eq 0 ]]; then result=ok; else result="CRASH (see $log)"; failed=1; fi
  printf '%-22s %8s %14s %10s %8s %s\n' "$target" "$seconds" "${executions:-?}" "${rate:-?}" \
    "${cov:-?}" "$result" | tee -a "$summary"
done
exit $failed
