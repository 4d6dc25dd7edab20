#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. build with -Werror and run every test (unit, CLI integration, fuzz corpus replay);
#   2. build with AddressSanitizer + UndefinedBehaviorSanitizer and run every test again;
#   3. run each fuzz target under libFuzzer for a bounded time (POPID_FUZZ_SECONDS, default 20)
#      on a copy of its corpus, so new inputs never land in the repository by accident.
# Set POPID_QUICK=1 to run only step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build and test"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
[ "${POPID_QUICK:-0}" = 1 ] && exit 0

echo "== ASan + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPOPID_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== libFuzzer"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOPID_FUZZ=ON \
  -DPOPID_SANITIZE=ON >/dev/null
targets=$(cd fuzz && ls fuzz_*.c | sed 's/\.c$//')
# shellcheck disable=SC2086
cmake --build build-fuzz -j"$jobs" --target $targets
secs=${POPID_FUZZ_SECONDS:-20}
for t in $targets; do
  short=${t#fuzz_}
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$short/." "$work/"
  echo "-- $t for ${secs}s"
  if ! (cd "$work" && "$OLDPWD/build-fuzz/$t" -max_total_time="$secs" -max_len=65536 \
          -print_final_stats=0 "$work" >"$work.log" 2>&1); then
    tail -40 "$work.log"
    echo "fuzz target $t failed; the crashing input is in $work" >&2
    exit 1
  fi
  grep -E '^Done|#[0-9]+.*DONE' "$work.log" | tail -1 || true
  rm -rf "$work" "$work.log"
done
echo "fuzz: all targets ran ${secs}s without a finding"
