#!/usr/bin/env bash
# Runs one of popid's benchmarks, or all of them, and prints their tables; the JSON lines they
# print are what docs/BENCHMARKS.md records, with this command.
#   bench/run.sh NAME [ARGS...]   runs build-bench/bench_NAME or bench/bench_NAME.sh with ARGS
#   bench/run.sh all              runs every benchmark with its defaults
# Builds an optimized tree in build-bench/ first; databases and data files go to bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
shift || true

bash scripts/deps.sh bench
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
make -C build-bench -j"$(nproc)" --no-print-directory >/dev/null
mkdir -p bench/out

run_one() {
  local name="$1"
  shift
  if [ -x "build-bench/bench_$name" ]; then
    "./build-bench/bench_$name" "$@"
  elif [ -f "bench/bench_$name.sh" ]; then
    bash "bench/bench_$name.sh" "$@"
  else
    echo "bench/run.sh: no benchmark '$name'" >&2
    exit 2
  fi
}

if [ "$what" != all ]; then
  run_one "$what" "$@"
  exit
fi
for b in build-bench/bench_* bench/bench_*.sh; do
  [ -e "$b" ] || continue
  name="$(basename "$b")"
  name="${name#bench_}"
  run_one "${name%.sh}"
done
