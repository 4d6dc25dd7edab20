#!/usr/bin/env bash
# Benchmark of `popid gen` (one thread) against two ceilings run in the same hyperfine session:
#   - `head -c BYTES /dev/zero > /dev/null`: writing the same number of bytes, nothing else;
#   - `yes LINE | head -n N > /dev/null`: the cheapest line generator, N copies of a typical
#     line through a pipe.
# Prints hyperfine's table, then one JSON line per command (lines starting with '{', for
# docs/BENCHMARKS.md) with the median people per second and the ratio to the ceilings.
#   bench/bench_gen.sh [--people N] [--runs R] [--seed S]     (defaults 10000000, 5, 1)
# bench/run.sh gen builds build-bench/ (Release) first; POPID overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
people=10000000 runs=5 seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --people) people=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: bench/bench_gen.sh [--people N] [--runs R] [--seed S]" >&2; exit 2 ;;
  esac
done
popid=${POPID:-build-bench/popid}
[ -x "$popid" ] || { echo "bench_gen: no $popid (run bench/run.sh gen)" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "bench_gen: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
mkdir -p bench/out

# The exact output size, and a typical line for the `yes` ceiling.
bytes=$("$popid" gen --people "$people" --seed "$seed" | wc -c)
csv_bytes=$("$popid" gen --people "$people" --seed "$seed" --format csv | wc -c)
"$popid" gen --people 1000 --seed "$seed" >bench/out/gen_sample.jsonl
line=$(awk -v want=$((bytes / people)) 'length($0) >= want { print; exit }' bench/out/gen_sample.jsonl)
line=${line//\'/}
out=bench/out/gen.json
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$out" \
  -n "popid gen jsonl" "$popid gen --people $people --seed $seed > /dev/null" \
  -n "popid gen csv" "$popid gen --people $people --seed $seed --format csv > /dev/null" \
  -n "head -c (jsonl bytes)" "head -c $bytes /dev/zero > /dev/null" \
  -n "yes | head -n (lines)" "yes '$line' | head -n $people > /dev/null"

echo
jq -c --argjson people "$people" --argjson bytes "$bytes" --argjson csv_bytes "$csv_bytes" '
  .results as $r
  | ($r | map({(.command): .median}) | add) as $m
  | $r[] | {
      bench: "gen", command: .command, people: $people,
      bytes: (if .command == "popid gen csv" then $csv_bytes else $bytes end),
      median_s: .median, min_s: .min, max_s: .max, user_s: .user, system_s: .system,
      people_per_s: (($people / .median) | floor),
      mb_per_s: (((if .command == "popid gen csv" then $csv_bytes else $bytes end) / .median / 1e6) * 10 | floor / 10),
      vs_head: ((.median / $m["head -c (jsonl bytes)"]) * 10 | floor / 10),
      vs_yes: ((.median / $m["yes | head -n (lines)"]) * 100 | floor / 100)
    }' "$out"
