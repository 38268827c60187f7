#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan+UBSan) and runs each one.
#   scripts/fuzz.sh            a short fixed number of runs per harness (CI)
#   scripts/fuzz.sh --long S   S seconds per harness (npm run fuzz)
# New inputs go to a temporary corpus; the seeds in native/fuzz/corpus stay as committed.
# A crash leaves its input in build-fuzz/crashes/: make it a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-runs=3000)
if [ "${1:-}" = "--long" ]; then limit=(-max_total_time="${2:-300}"); fi

cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DNOMYO_FUZZERS=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes
for seeds in native/fuzz/corpus/*/; do
  name=$(basename "$seeds")
  scratch=$(mktemp -d)
  echo "fuzzing $name"
  log="$scratch.log"
  if ! build-fuzz/"$name" "${limit[@]}" -artifact_prefix=build-fuzz/crashes/"$name"- "$scratch" "$seeds" >"$log" 2>&1; then
    grep -v '^INFO' "$log" | head -n 60
    echo "$name FAILED: the input is in build-fuzz/crashes/" >&2
    exit 1
  fi
  tail -n 1 "$log"
  rm -rf "$scratch" "$log"
done
