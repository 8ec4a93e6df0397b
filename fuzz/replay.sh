#!/usr/bin/env bash
# Replays every committed corpus (fuzz/corpus/<target>/*) once, deterministically: through
# the stable-Rust harness tests/fuzz_corpus.rs, which runs the same checks as the fuzz
# targets. Fast (well under a second once built); `.ci/run` calls it.
#
#   fuzz/replay.sh              # stable harness (no cargo-fuzz needed)
#   fuzz/replay.sh --libfuzzer  # also through the libFuzzer binaries (nightly + cargo-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --test fuzz_corpus
if [[ "${1:-}" == "--libfuzzer" ]]; then
  cd fuzz
  for target in $(sed -n 's/^ *("\([a-z_0-9]*\)", .*::check),$/\1/p' src/lib.rs); do
    cargo +nightly fuzz run -s none "$target" "corpus/$target" -- -runs=0
  done
fi
