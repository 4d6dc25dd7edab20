#!/usr/bin/env bash
# API benchmark: GET /v1/persons/{pid}?purpose=kyc with the audit log on (every answer waits
# for its entry's group commit), random pids of a 1M-person registry picked by a wrk Lua
# script, 64 connections, next to nginx serving a static JSON file of the same size in the
# same run (the nginx setup of bench_http.sh). RUNS interleaved rounds of DUR; medians of
# req/s, p50, p99 and of the per-round ratio to nginx.
#
#   bench/bench_api.sh [--runs 3] [--dur 10s] [--people 1000000] [--soak SECONDS]
#
# --soak S: after the rounds, loads the server for S seconds (wrk, same script) and samples
# its RSS and its request counter (/metrics) every 10 s: RSS first, last, max and growth, and
# req/s per 10 s interval.
# THREADS (default: the core count) sets popid serve --threads. A request waits for its
# entry's group commit with its connection suspended, not its thread, so a commit serves every
# request that arrived during the previous one and more threads than cores buy nothing.
# The registry (bench/out/api-<people>.db) is made once with popid gen + import and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 dur=10s people=1000000 soak=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;; --dur) dur=$2; shift 2 ;;
    --people) people=$2; shift 2 ;; --soak) soak=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--dur D] [--people N] [--soak S]" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
bench_popid
mkdir -p bench/out
db="$PWD/bench/out/api-$people.db"
out="$PWD/bench/out/api"
rm -rf "$out"
mkdir -p "$out/www" "$out/tmp"
bench_registry "$people" "$db"
# A client granted the identity fields, with a rate that does not limit the benchmark.
"$POPID" client add --db "$db" --name "bench $$" --kind ministry --roles reader \
  --fields pid,name,dob,sex,status,nationality --purposes kyc --rate 100000 --burst 1000000 \
  2>/dev/null | jq -r .token >"$out/token"
sqlite3 "$db" "SELECT printf('%012d', pid) FROM person ORDER BY random() LIMIT 100000" >"$out/pids"

bench_serve "$db" "$out" --threads "${THREADS:-$bench_cores}"
tok=$(cat "$out/token")
sleep 1.1 # the client cache sees the new client within 1 s
first=$(head -1 "$out/pids")
curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$pport/v1/persons/$first?purpose=kyc" \
  >"$out/www/person.json" || { echo "bench_api: popid does not answer" >&2; exit 1; }

cat >"$out/pids.lua" <<LUA
local pids = {}
for l in io.lines("$out/pids") do pids[#pids + 1] = l end
math.randomseed(os.time())
request = function()
  local p = pids[math.random(#pids)]
  return wrk.format("GET", "/v1/persons/" .. p .. "?purpose=kyc",
                    {["Authorization"] = "Bearer $tok"})
end
LUA

bench_nginx "$out" /person.json

wrk -t2 -c64 -d2s "http://127.0.0.1:$nport/person.json" >/dev/null
wrk -t2 -c64 -d2s -s "$out/pids.lua" "http://127.0.0.1:$pport" >/dev/null
for r in $(seq "$runs"); do
  wrk_round nginx "$out/wrk-nginx-$r.txt" "http://127.0.0.1:$nport/person.json"
  wrk_round popid "$out/wrk-popid-$r.txt" -s "$out/pids.lua" "http://127.0.0.1:$pport"
done
bench_machine
echo "registry $people people; wrk -t2 -c64 -d$dur --latency; $runs interleaved runs; body $(wc -c <"$out/www/person.json") bytes; audit on"
wrk_table nginx popid
echo "audit entries in the log: $(sqlite3 "$db.audit" 'SELECT count(*) FROM audit_entry' 2>/dev/null || echo '?')"
audit_commits

if [ "$soak" -gt 0 ]; then
  # Every 10 s: the server's RSS and its request count (/metrics, all routes; /metrics itself
  # adds one request per sample), so req/s per interval and memory over time come from the
  # server, not from wrk's end-of-run summary.
  # VmRSS counts the registry's memory map (file pages the kernel may drop and refault at any
  # time); RssAnon is the heap and stacks, where a leak would show.
  rss() { awk '/^VmRSS:/ {print $2}' "/proc/$spid/status"; }
  anon() { awk '/^RssAnon:/ {print $2}' "/proc/$spid/status"; }
  served() { curl -s "http://127.0.0.1:$pport/metrics" |
    awk '/^popid_http_requests_total\{/ {n += $NF} END {printf "%.0f", n}'; }
  wrk -t2 -c64 -d"${soak}s" --latency -s "$out/pids.lua" "http://127.0.0.1:$pport" >"$out/wrk-soak.txt" &
  wpid=$!
  samples=() anons=() rates=()
  prev=$(served)
  for _ in $(seq $((soak / 10))); do
    sleep 10
    samples+=("$(rss)")
    anons+=("$(anon)")
    now=$(served)
    rates+=("$(((now - prev) / 10))")
    prev=$now
  done
  wait "$wpid" || true
  echo
  echo "soak ${soak}s: RSS KiB every 10 s: ${samples[*]}"
  echo "soak ${soak}s: RssAnon KiB every 10 s: ${anons[*]}"
  echo "soak: req/s per 10 s: ${rates[*]}"
  amax=$(printf '%s\n' "${anons[@]}" | sort -n | tail -1)
  echo "soak: RssAnon first ${anons[0]} KiB, last ${anons[-1]} KiB, max $amax KiB, growth $((anons[-1] - anons[0])) KiB"
  max=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
  echo "soak: RSS first ${samples[0]} KiB, last ${samples[-1]} KiB, max $max KiB, growth $((samples[-1] - samples[0])) KiB"
  echo "soak: wrk $(awk '/^Requests\/sec:/ {print $2}' "$out/wrk-soak.txt") req/s, p50 $(awk '$1 == "50%" {print $2}' "$out/wrk-soak.txt"), p99 $(awk '$1 == "99%" {print $2}' "$out/wrk-soak.txt"); $(grep -E 'Non-2xx|Socket errors' "$out/wrk-soak.txt" || echo 'no errors')"
  echo "soak: audit $(curl -s "http://127.0.0.1:$pport/metrics" | awk '/^popid_audit_(entries|commits)_total/ {printf "%s=%s ", $1, $2}')"
fi
