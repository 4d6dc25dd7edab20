#!/usr/bin/env bash
# Where the server's CPU goes per request of the API benchmark: runs `popid serve` on the
# registry bench_api.sh made (bench/out/api-<people>.db, with its client token and pid list in
# bench/out/api/; run bench_api.sh once first), loads it with the same wrk script for DUR
# seconds and reads the CPU time of each of its threads from /proc/<pid>/task/*/stat before and
# after: microseconds of CPU per request for the HTTP workers ("MHD-worker"), the audit writer
# and checkpointer ("popid") and the total, next to req/s, p50 and p99, and the audit batch
# size from /metrics. CPU per request moves far less than req/s with the load of a shared
# machine, so it is what to compare between two builds: run both, alternately, several times.
#
#   POPID=build/popid bench/bench_api_cpu.sh [--dur 8] [--people 1000000] [--threads 2] [--perf]
#
# --perf records `perf record -g` of the server for 6 s of the run into bench/out/api-cpu/
# (PERF_OPTS replaces -g, e.g. "--call-graph dwarf,16384 -F 2000" for a build without frame
# pointers).
set -euo pipefail
cd "$(dirname "$0")/.."
dur=8 people=1000000 threads=2 perf=0
while [ $# -gt 0 ]; do
  case $1 in
    --dur) dur=$2; shift 2 ;; --people) people=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;; --perf) perf=1; shift ;;
    *) echo "usage: $0 [--dur S] [--people N] [--threads N] [--perf]" >&2; exit 2 ;;
  esac
done
POPID=${POPID:?set POPID to the binary}
db="$PWD/bench/out/api-$people.db"
in="$PWD/bench/out/api"
out="$PWD/bench/out/api-cpu"
[ -s "$db" ] && [ -s "$in/token" ] && [ -s "$in/pids.lua" ] ||
  { echo "bench_api_cpu: run bench/bench_api.sh first (it makes $db and $in/pids.lua)" >&2; exit 1; }
mkdir -p "$out"
"$POPID" serve --db "$db" --listen 127.0.0.1:0 --threads "$threads" >"$out/popid.out" 2>"$out/popid.err" &
spid=$!
trap 'kill "$spid" 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$out/popid.out" ] && break; sleep 0.05; done
port=$(jq -r .port "$out/popid.out")
sleep 1.1
wrk -t2 -c64 -d2s -s "$in/pids.lua" "http://127.0.0.1:$port" >/dev/null
# Ticks (utime + stime) per thread name, summed.
ticks() {
  for t in /proc/"$spid"/task/*; do
    printf '%s ' "$(cat "$t/comm")"
    sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}'
  done | awk '{a[$1] += $2} END {for (k in a) printf "%s=%d ", k, a[k]}'
}
c0=$(ticks)
ppid=
if [ "$perf" = 1 ]; then
  perf record ${PERF_OPTS:--g} -o "$out/perf.data" -p "$spid" -- sleep 6 >/dev/null 2>&1 &
  ppid=$!
fi
wrk -t2 -c64 -d"${dur}s" --latency -s "$in/pids.lua" "http://127.0.0.1:$port" >"$out/wrk.txt"
c1=$(ticks)
[ -n "$ppid" ] && wait "$ppid"
n=$(awk '/requests in/ {print $1}' "$out/wrk.txt")
echo "req/s $(awk '/^Requests\/sec/ {print $2}' "$out/wrk.txt"), p50 $(awk '$1 == "50%" {print $2}' "$out/wrk.txt"), p99 $(awk '$1 == "99%" {print $2}' "$out/wrk.txt"), load $(cut -d' ' -f1 /proc/loadavg) $(grep -E 'Non-2xx|Socket errors' "$out/wrk.txt" || true)"
hz=$(getconf CLK_TCK)
awk -v a="$c0" -v b="$c1" -v n="$n" -v hz="$hz" 'BEGIN {
  split(a, x, " "); for (i in x) { split(x[i], kv, "="); p[kv[1]] = kv[2] }
  split(b, y, " "); t = 0; s = "CPU us per request:"
  for (i in y) { split(y[i], kv, "="); d = kv[2] - p[kv[1]]; t += d; s = s sprintf(" %s %.1f", kv[1], d * 1e6 / hz / n) }
  printf "%s, total %.1f\n", s, t * 1e6 / hz / n }'
curl -s "http://127.0.0.1:$port/metrics" | awk '/^popid_audit_entries_total/ {e = $2}
  /^popid_audit_commits_total/ {c = $2}
  END {if (c) printf "audit: %d entries in %d group commits (%.1f per commit)\n", e, c, e / c}'
