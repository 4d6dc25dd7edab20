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
POPID=${POPID:-}
if [ -z "$POPID" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
  make -C build-bench -j"$(nproc)" --no-print-directory popid >/dev/null
  POPID=build-bench/popid
fi
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
cores=$(nproc)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ ! -s "$db" ]; then
  echo "bench_verify: making a $people-person registry (once)" >&2
  rm -f "$db"*
  "$POPID" init --db "$db" >/dev/null
  "$POPID" gen --people "$people" --seed 1 --format csv --out "$out/people.csv"
  "$POPID" import --db "$db" --mode all-or-nothing "$out/people.csv" >/dev/null
  rm -f "$out/people.csv"
fi
"$POPID" client add --db "$db" --name "verify bench $$" --kind bank --roles verifier \
  --fields pid,name,dob --purposes kyc --rate 100000 --burst 1000000 \
  2>/dev/null | jq -r .token >"$out/token"
tok=$(cat "$out/token")
# Bodies: pid, name, dob of random living people, one JSON body per line.
sqlite3 -separator $'\t' "$db" "SELECT printf('%012d', pid), full_name, dob FROM person WHERE status = 0 ORDER BY random() LIMIT 100000" |
  awk -F'\t' '{ d = $3; if (NR % 10 == 0) d = (substr(d, 1, 4) + 4) substr(d, 5);
    printf "{\"pid\":\"%s\",\"name\":\"%s\",\"dob\":\"%s\",\"match\":\"exact\"}\n", $1, $2, d }' >"$out/bodies"

"$POPID" serve --db "$db" --listen 127.0.0.1:0 --threads "${THREADS:-$cores}" >"$out/popid.out" 2>"$out/popid.err" &
spid=$!
pids+=("$spid")
for _ in $(seq 200); do [ -s "$out/popid.out" ] && break; sleep 0.05; done
pport=$(jq -r .port "$out/popid.out")
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

nport=$(free_port)
cat >"$out/nginx.conf" <<CONF
worker_processes $cores;
daemon off;
pid $out/nginx.pid;
error_log $out/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=64 inactive=60s;
  types { application/json json; text/csv csv; }
  default_type application/json;
  client_body_temp_path $out/tmp/body;
  proxy_temp_path $out/tmp/proxy;
  fastcgi_temp_path $out/tmp/fastcgi;
  uwsgi_temp_path $out/tmp/uwsgi;
  scgi_temp_path $out/tmp/scgi;
  server { listen 127.0.0.1:$nport; root $out/www; }
}
CONF
nginx -c "$out/nginx.conf" -e "$out/nginx-error.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nport/answer.json" >/dev/null && break; sleep 0.05; done

to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1000;
  else if (v ~ /s$/) f = 1000000; else f = 1; printf "%.0f", n * f }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A rps p50 p99 ratios
echo "machine: $cores cores ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2; exit}')), shared by wrk, nginx and popid (and whatever else runs); load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
run() {
  local f=$1; shift
  wrk -t2 -c64 -d"$dur" --latency "$@" >"$f"
  if grep -q "Non-2xx\|Socket errors" "$f"; then echo "bench_verify: errors in $f" >&2; cat "$f" >&2; exit 1; fi
}
if [ "$part" != batch ]; then
wrk -t2 -c64 -d2s "http://127.0.0.1:$nport/answer.json" >/dev/null
wrk -t2 -c64 -d2s -s "$out/verify.lua" "http://127.0.0.1:$pport" >/dev/null
for r in $(seq "$runs"); do
  for t in nginx popid; do
    f="$out/wrk-$t-$r.txt"
    if [ $t = nginx ]; then run "$f" "http://127.0.0.1:$nport/answer.json"
    else run "$f" -s "$out/verify.lua" "http://127.0.0.1:$pport"; fi
    v=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    rps[$t]+="$v "
    [ $t = nginx ] && round_nginx=$v
    ratios[$t]+="$(awk -v a="$v" -v b="$round_nginx" 'BEGIN {printf "%.3f", a / b}') "
    p50[$t]+="$(to_us "$(awk '$1 == "50%" {print $2}' "$f")") "
    p99[$t]+="$(to_us "$(awk '$1 == "99%" {print $2}' "$f")") "
  done
done
echo "registry $people people; POST /v1/auth/verify name+dob exact; wrk -t2 -c64 -d$dur --latency; $runs interleaved runs; answer $(wc -c <"$out/www/answer.json") bytes; audit on, ES256 per answer"
printf '\n| server | median req/s | p50 µs | p99 µs | ratio to nginx (median of rounds) | runs (req/s) |\n|---|---:|---:|---:|---:|---|\n'
for t in nginx popid; do
  printf '| %s | %.0f | %s | %s | %.2f | %s|\n' "$t" "$(median <<<"${rps[$t]}")" \
    "$(median <<<"${p50[$t]}")" "$(median <<<"${p99[$t]}")" "$(median <<<"${ratios[$t]}")" "${rps[$t]}"
done
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
