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
if [ -z "${POPID:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
  make -C build-bench -j"$(nproc)" --no-print-directory popid >/dev/null
  POPID=build-bench/popid
fi
out="$PWD/bench/out/http"
rm -rf "$out"
mkdir -p "$out/www" "$out/tmp"
cores=$(nproc)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# popid: a fresh registry, a free port chosen by the server itself (--listen 127.0.0.1:0).
"$POPID" init --db "$out/r.db" >/dev/null
"$POPID" serve --db "$out/r.db" --listen 127.0.0.1:0 --threads "$cores" >"$out/popid.out" \
  2>"$out/popid.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$out/popid.out" ] && break; sleep 0.05; done
pport=$(jq -r .port "$out/popid.out")

# nginx: the very bytes popid answers on /v1, as a static file.
curl -sf "http://127.0.0.1:$pport/v1" >"$out/www/v1.json"
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
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=64 inactive=60s;
  open_file_cache_valid 60s;
  types { application/json json; }
  default_type application/json;
  client_body_temp_path $out/tmp/body;
  proxy_temp_path $out/tmp/proxy;
  fastcgi_temp_path $out/tmp/fastcgi;
  uwsgi_temp_path $out/tmp/uwsgi;
  scgi_temp_path $out/tmp/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $out/www;
    location = /mem { return 200 '$(cat "$out/www/v1.json")'; }
  }
}
CONF
nginx -c "$out/nginx.conf" -e "$out/nginx-error.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nport/v1.json" >/dev/null && break; sleep 0.05; done
cmp -s "$out/www/v1.json" <(curl -sf "http://127.0.0.1:$nport/v1.json") ||
  { echo "bench_http: nginx does not serve the file" >&2; exit 1; }
curl -sf "http://127.0.0.1:$pport/healthz" >/dev/null

# wrk's latency figures (850.00us, 1.20ms, 2.00s) in microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1000;
  else if (v ~ /s$/) f = 1000000; else f = 1; printf "%.0f", n * f }'; }
declare -A rps p50 p99 ratios
targets=(nginx nginx_mem popid_v1 popid_healthz)
declare -A url=([nginx]="http://127.0.0.1:$nport/v1.json" [nginx_mem]="http://127.0.0.1:$nport/mem"
  [popid_v1]="http://127.0.0.1:$pport/v1"
  [popid_healthz]="http://127.0.0.1:$pport/healthz")
for t in "${targets[@]}"; do wrk -t2 -c64 -d2s "${url[$t]}" >/dev/null; done # warm-up
for r in $(seq "$runs"); do
  for t in "${targets[@]}"; do
    wrk -t2 -c64 -d"$dur" --latency "${url[$t]}" >"$out/wrk-$t-$r.txt"
    f="$out/wrk-$t-$r.txt"
    if grep -q "Non-2xx\|Socket errors" "$f"; then echo "bench_http: errors in $f" >&2; cat "$f" >&2; exit 1; fi
    v=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    rps[$t]+="$v "
    [ "$t" = nginx ] && round_nginx=$v
    ratios[$t]+="$(awk -v a="$v" -v b="$round_nginx" 'BEGIN {printf "%.3f", a / b}') "
    p50[$t]+="$(to_us "$(awk '$1 == "50%" {print $2}' "$f")") "
    p99[$t]+="$(to_us "$(awk '$1 == "99%" {print $2}' "$f")") "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

bytes=$(wc -c <"$out/www/v1.json")
echo "machine: $cores cores ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2; exit}')), wrk and the servers share them"
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), libmicrohttpd $(pkg-config --modversion libmicrohttpd), wrk -t2 -c64 -d$dur --latency, $runs runs interleaved, body $bytes bytes"
# The ratio is taken within each round (the runs of one round are back to back, so they share
# the machine's load of the moment), then the median over rounds.
printf '\n| server | median req/s | p50 µs | p99 µs | req/s / nginx (median of rounds) | runs (req/s) |\n|---|---:|---:|---:|---:|---|\n'
for t in "${targets[@]}"; do
  m=$(median <<<"${rps[$t]}")
  ratio=$(median <<<"${ratios[$t]}")
  printf '| %s | %.0f | %s | %s | %.2f | %s|\n' "$t" "$m" "$(median <<<"${p50[$t]}")" \
    "$(median <<<"${p99[$t]}")" "$ratio" "${rps[$t]}"
  printf '{"bench":"http","target":"%s","rps":%.0f,"p50_us":%s,"p99_us":%s,"ratio_to_nginx":%.2f}\n' \
    "$t" "$m" "$(median <<<"${p50[$t]}")" "$(median <<<"${p99[$t]}")" "$ratio" >>"$out/results.jsonl"
done
echo
cat "$out/results.jsonl"
