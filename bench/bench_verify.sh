#!/usr/bin/env bash
# Verification benchmark (issue 5), two parts on the 1M-person registry of bench_api.sh:
#  1. POST /v1/auth/verify?purpose=kyc with the audit log on (each answer waits for its entry's
#     group commit) and an ES256 signature per answer: a wrk Lua script posts {pid, name, dob,
#     match} bodies over 100,000 random people (9 in 10 right, 1 in 10 a wrong year: +4, so 29 February stays a real day), 64
#     connections, 2 threads, next to nginx serving a static file of the answer's size in the same
#     run. RUNS interleaved rounds of DUR; medians of req/s, p50, p99 and of the ratio to nginx.
#  2. POST /v1/auth/verify-batch: a CSV of LINES lines (pid,name,dob of the registry's people,
#     repeated; every 20th line a wrong name) streamed with curl --data-binary @file, timed end to
#     end (upload, spool, verify, audit, answer), next to the ceiling of reading the same file
#     (cat file > /dev/null) and of nginx serving a file of that size to curl in the same run.
#
#   bench/bench_verify.sh [--runs 3] [--dur 10s] [--people 1000000] [--lines 10000000]
#                         [--part both|verify|batch]
#
# Numbers on a shared 2-core machine are noisy: the same wrk, nginx and popid share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3 dur=10s people=1000000 lines=10000000 part=both
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;; --dur) dur=$2; shift 2 ;;
    --people) people=$2; shift 2 ;; --lines) lines=$2; shift 2 ;;
    --part) part=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--dur D] [--people N] [--lines N] [--part both|verify|batch]" >&2; exit 2 ;;
  esac
done
. bench/lib.sh
bench_popid
mkdir -p bench/out
# A registry of its own (a copy of bench_api.sh's when there is one), so that another benchmark's
# server on that one shares no audit log (lock waits) with this run; the audit log starts empty
# each run (its key kept), so runs compare.
db="$PWD/bench/out/verify-$people.db"
src="$PWD/bench/out/api-$people.db"
if [ ! -s "$db" ] && [ -s "$src" ]; then
  sqlite3 "$src" ".backup '$db'"
  for k in key pepper outbox.key audit.key; do if [ -e "$src.$k" ]; then cp -p "$src.$k" "$db.$k"; fi; done
fi
rm -f "$db.audit" "$db.audit-wal" "$db.audit-shm"
out="$PWD/bench/out/verify"
rm -rf "$out"
mkdir -p "$out/www" "$out/tmp"
bench_registry "$people" "$db"
"$POPID" client add --db "$db" --name "verify bench $$" --kind bank --roles verifier \
  --fields pid,name,dob --purposes kyc --rate 100000 --burst 1000000 \
  2>/dev/null | jq -r .token >"$out/token"
tok=$(cat "$out/token")
# Bodies: pid, name, dob of random living people, one JSON body per line.
sqlite3 -separator $'\t' "$db" "SELECT printf('%012d', pid), full_name, dob FROM person WHERE status = 0 ORDER BY random() LIMIT 100000" |
  awk -F'\t' '{ d = $3; if (NR % 10 == 0) d = (substr(d, 1, 4) + 4) substr(d, 5);
    printf "{\"pid\":\"%s\",\"name\":\"%s\",\"dob\":\"%s\",\"match\":\"exact\"}\n", $1, $2, d }' >"$out/bodies"

bench_serve "$db" "$out" --threads "${THREADS:-$bench_cores}"
sleep 1.1 # the client cache sees the new client within 1 s
curl -sf -X POST -H "Authorization: Bearer $tok" --data-binary "$(head -1 "$out/bodies")" \
  "http://127.0.0.1:$pport/v1/auth/verify?purpose=kyc" >"$out/www/answer.json" ||
  { echo "bench_verify: popid does not answer" >&2; cat "$out/popid.err" >&2; exit 1; }

cat >"$out/verify.lua" <<LUA
local bodies = {}
for l in io.lines("$out/bodies") do bodies[#bodies + 1] = l end
math.randomseed(os.time())
request = function()
  return wrk.format("POST", "/v1/auth/verify?purpose=kyc",
                    {["Authorization"] = "Bearer $tok", ["Content-Type"] = "application/json"},
                    bodies[math.random(#bodies)])
end
LUA

bench_nginx "$out" /answer.json

bench_machine
if [ "$part" != batch ]; then
wrk -t2 -c64 -d2s "http://127.0.0.1:$nport/answer.json" >/dev/null
wrk -t2 -c64 -d2s -s "$out/verify.lua" "http://127.0.0.1:$pport" >/dev/null
for r in $(seq "$runs"); do
  wrk_round nginx "$out/wrk-nginx-$r.txt" "http://127.0.0.1:$nport/answer.json"
  wrk_round popid "$out/wrk-popid-$r.txt" -s "$out/verify.lua" "http://127.0.0.1:$pport"
done
echo "registry $people people; POST /v1/auth/verify name+dob exact; wrk -t2 -c64 -d$dur --latency; $runs interleaved runs; answer $(wc -c <"$out/www/answer.json") bytes; audit on, ES256 per answer"
wrk_table nginx popid
fi
[ "$part" = verify ] && exit 0

# -- batch
sqlite3 -separator , "$db" "SELECT printf('%012d', pid), full_name, dob FROM person" >"$out/one.csv"
{
  echo "pid,name,dob"
  # head ends the endless cat with SIGPIPE: not an error here (set -o pipefail).
  (set +o pipefail; while :; do cat "$out/one.csv"; done | head -n "$lines") | awk -F, -v OFS=, 'NR % 20 == 0 { $2 = "Sai Tên" } { print }'
} >"$out/www/batch.csv"
size=$(wc -c <"$out/www/batch.csv")
t0=$(date +%s.%N); cat "$out/www/batch.csv" >/dev/null; t1=$(date +%s.%N)
curl -sf -o /dev/null "http://127.0.0.1:$nport/batch.csv"; t2=$(date +%s.%N)
curl -sf -N -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: text/csv' \
  --data-binary @"$out/www/batch.csv" "http://127.0.0.1:$pport/v1/auth/verify-batch?purpose=kyc" \
  >"$out/batch.out"; t3=$(date +%s.%N)
got=$(($(wc -l <"$out/batch.out") - 1))
yes=$(grep -c ',yes,' "$out/batch.out" || true)
echo
echo "batch: $lines lines, $size bytes; answered $got lines ($yes yes)"
awk -v n="$lines" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  printf "| path | seconds | lines/s |\n|---|---:|---:|\n";
  printf "| cat file > /dev/null | %.2f | %.0f |\n", b - a, n / (b - a);
  printf "| nginx serving the file to curl | %.2f | %.0f |\n", c - b, n / (c - b);
  printf "| popid verify-batch (upload, verify, audit, answer) | %.2f | %.0f |\n", d - c, n / (d - c) }'
echo "audit entries in the log: $(sqlite3 "$db.audit" 'SELECT count(*) FROM audit_entry' 2>/dev/null || echo '?')"
