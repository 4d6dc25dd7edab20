# shellcheck shell=bash
# Shared by the HTTP benchmarks (bench_http.sh, bench_api.sh, bench_verify.sh): the popid binary,
# processes stopped at exit, free ports, the 1M-person registry, `popid serve`, the nginx peer, and
# interleaved wrk rounds reduced to medians. Sourced, not run; the caller has `set -euo pipefail`
# and runs from the repository's root.

bench_cores=$(nproc)

# POPID: the binary under test; by default an optimized build in build-bench/.
bench_popid() {
  POPID=${POPID:-}
  if [ -z "$POPID" ]; then
    cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
    make -C build-bench -j"$bench_cores" --no-print-directory popid >/dev/null
    POPID=build-bench/popid
  fi
}

# Background processes to stop when the benchmark ends, however it ends.
bench_pids=()
bench_cleanup() { for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap bench_cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# bench_registry PEOPLE DB: makes a registry of PEOPLE generated people at DB once (popid gen +
# import, seed 1); later runs reuse it.
bench_registry() {
  local people=$1 db=$2
  [ -s "$db" ] && return 0
  echo "bench: making a $people-person registry at $db (once)" >&2
  rm -f "$db"*
  "$POPID" init --db "$db" >/dev/null
  "$POPID" gen --people "$people" --seed 1 --format csv --out "$db.people.csv"
  "$POPID" import --db "$db" --mode all-or-nothing "$db.people.csv" >/dev/null
  rm -f "$db.people.csv"
}

# bench_serve DB OUT [ARGS...]: starts `popid serve` on a port it picks, output in OUT/popid.*;
# sets spid and pport.
bench_serve() {
  local db=$1 out=$2
  shift 2
  "$POPID" serve --db "$db" --listen 127.0.0.1:0 "$@" >"$out/popid.out" 2>"$out/popid.err" &
  spid=$!
  bench_pids+=("$spid")
  for _ in $(seq 600); do [ -s "$out/popid.out" ] && break; sleep 0.05; done
  pport=$(jq -r .port "$out/popid.out")
}

# bench_nginx OUT PROBE [SERVER_LINES]: nginx (workers = cores, access_log off, sendfile,
# keep-alive for the whole run, open_file_cache) serving OUT/www on a free port, SERVER_LINES
# added to its server block; returns once PROBE (a path) answers. Sets nport.
bench_nginx() {
  local out=$1 probe=$2 extra=${3:-}
  nport=$(free_port)
  mkdir -p "$out/tmp"
  cat >"$out/nginx.conf" <<CONF
worker_processes $bench_cores;
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
  types { application/json json; text/csv csv; }
  default_type application/json;
  client_body_temp_path $out/tmp/body;
  proxy_temp_path $out/tmp/proxy;
  fastcgi_temp_path $out/tmp/fastcgi;
  uwsgi_temp_path $out/tmp/uwsgi;
  scgi_temp_path $out/tmp/scgi;
  server {
    listen 127.0.0.1:$nport;
    root $out/www;
    $extra
  }
}
CONF
  nginx -c "$out/nginx.conf" -e "$out/nginx-error.log" &
  bench_pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nport$probe" >/dev/null && break; sleep 0.05; done
}

# wrk's latency figures (850.00us, 1.20ms, 2.00s) in microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1000;
  else if (v ~ /s$/) f = 1000000; else f = 1; printf "%.0f", n * f }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# Per target: req/s, p50 and p99 of each round, and the ratio to the round's nginx figure (the
# runs of one round are back to back, so they share the machine's load of the moment).
declare -A rps p50 p99 ratios
round_nginx=

# wrk_round TARGET FILE WRK_ARGS...: one run of `wrk -t2 -c64 -d$dur --latency` into FILE, its
# figures added to TARGET's; the target named nginx sets the round's reference. Any non-2xx
# answer or socket error stops the benchmark.
wrk_round() {
  local t=$1 f=$2
  shift 2
  wrk -t2 -c64 -d"${dur:?the caller sets dur, the length of a run}" --latency "$@" >"$f"
  if grep -q "Non-2xx\|Socket errors" "$f"; then echo "bench: errors in $f" >&2; cat "$f" >&2; exit 1; fi
  local v
  v=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  rps[$t]+="$v "
  [ "$t" = nginx ] && round_nginx=$v
  ratios[$t]+="$(awk -v a="$v" -v b="$round_nginx" 'BEGIN {printf "%.3f", a / b}') "
  p50[$t]+="$(to_us "$(awk '$1 == "50%" {print $2}' "$f")") "
  p99[$t]+="$(to_us "$(awk '$1 == "99%" {print $2}' "$f")") "
}

bench_machine() {
  echo "machine: $bench_cores cores ($(lscpu | awk -F: '/Model name/ {gsub(/^ +/,"",$2); print $2; exit}')), shared by wrk, nginx and popid (and whatever else runs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# wrk_table TARGET...: the medians as a Markdown table.
wrk_table() {
  printf '\n| server | median req/s | p50 µs | p99 µs | ratio to nginx (median of rounds) | runs (req/s) |\n|---|---:|---:|---:|---:|---|\n'
  local t
  for t in "$@"; do
    printf '| %s | %.0f | %s | %s | %.2f | %s|\n' "$t" "$(median <<<"${rps[$t]}")" \
      "$(median <<<"${p50[$t]}")" "$(median <<<"${p99[$t]}")" "$(median <<<"${ratios[$t]}")" "${rps[$t]}"
  done
}

# The audit counters of the server on pport (/metrics).
audit_commits() {
  curl -s "http://127.0.0.1:$pport/metrics" | awk '/^popid_audit_entries_total/ {e = $2}
    /^popid_audit_commits_total/ {c = $2}
    END {if (c) printf "this server: %d audit entries in %d group commits (%.1f per commit)\n", e, c, e / c}'
}
