#!/usr/bin/env bash
# HTTP core benchmark: `popid serve` (libmicrohttpd) against nginx serving the same small JSON,
# both on loopback, measured by wrk in one run, interleaved, so the ratio holds on any machine.
#   bench/run.sh http                 (or: bash bench/bench_http.sh [RUNS] [DURATION])
# Peers: nginx with a static file of the same bytes as popid's GET /v1 (workers = cores,
# access_log off, keep-alive, open_file_cache), nginx answering the same bytes from memory
# (`return 200`, its ceiling), popid GET /v1 (a fixed JSON) and popid GET /healthz (a store read
# per request). Each is measured RUNS times (default 3) with `wrk -t2 -c64 -dDURATION --latency`;
# the table gives the median requests/s, the median of each run's p50 and p99 latency, and the
# median over rounds of the ratio to nginx measured in the same round.
# Note: wrk runs on the same machine and competes with the server for its cores.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
dur="${2:-10s}"

bash scripts/deps.sh bench
. bench/lib.sh
bench_popid
out="$PWD/bench/out/http"
rm -rf "$out"
mkdir -p "$out/www" "$out/tmp"

# popid: a fresh registry, a free port chosen by the server itself (--listen 127.0.0.1:0).
"$POPID" init --db "$out/r.db" >/dev/null
bench_serve "$out/r.db" "$out" --threads "$bench_cores"

# nginx: the very bytes popid answers on /v1, as a static file.
curl -sf "http://127.0.0.1:$pport/v1" >"$out/www/v1.json"
bench_nginx "$out" /v1.json "location = /mem { return 200 '$(cat "$out/www/v1.json")'; }"
cmp -s "$out/www/v1.json" <(curl -sf "http://127.0.0.1:$nport/v1.json") ||
  { echo "bench_http: nginx does not serve the file" >&2; exit 1; }
curl -sf "http://127.0.0.1:$pport/healthz" >/dev/null

targets=(nginx nginx_mem popid_v1 popid_healthz)
declare -A url=([nginx]="http://127.0.0.1:$nport/v1.json" [nginx_mem]="http://127.0.0.1:$nport/mem"
  [popid_v1]="http://127.0.0.1:$pport/v1"
  [popid_healthz]="http://127.0.0.1:$pport/healthz")
for t in "${targets[@]}"; do wrk -t2 -c64 -d2s "${url[$t]}" >/dev/null; done # warm-up
for r in $(seq "$runs"); do
  for t in "${targets[@]}"; do wrk_round "$t" "$out/wrk-$t-$r.txt" "${url[$t]}"; done
done

bytes=$(wc -c <"$out/www/v1.json")
bench_machine
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), libmicrohttpd $(pkg-config --modversion libmicrohttpd), wrk -t2 -c64 -d$dur --latency, $runs runs interleaved, body $bytes bytes"
# The ratio is taken within each round (the runs of one round are back to back, so they share
# the machine's load of the moment), then the median over rounds.
wrk_table "${targets[@]}"
for t in "${targets[@]}"; do
  printf '{"bench":"http","target":"%s","rps":%.0f,"p50_us":%s,"p99_us":%s,"ratio_to_nginx":%.2f}\n' \
    "$t" "$(median <<<"${rps[$t]}")" "$(median <<<"${p50[$t]}")" "$(median <<<"${p99[$t]}")" \
    "$(median <<<"${ratios[$t]}")" >>"$out/results.jsonl"
done
echo
cat "$out/results.jsonl"
