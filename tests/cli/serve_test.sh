#!/usr/bin/env bash
# Integration test of `popid serve` ($POPID): the real binary on a free port (--listen
# 127.0.0.1:0, the port read from its first stdout line), driven with curl and raw sockets:
# /healthz (and 503 while the store is gone), /v1, /v1/openapi.json (valid, the same bytes as
# docs/openapi.json, lists the paths), /metrics (format, counters going up), problem+json for
# 404/405/400/413/414 with the request id as instance, X-Request-Id echo, body caps (with and
# without Content-Length; the server keeps serving), invalid UTF-8, a slow client cut off by
# --timeout while others are served, a taken port (exit 1), --log lines without paths, and a
# graceful SIGTERM that still answers the request in progress and exits 0.
. "$(dirname "$0")/lib.sh"

src=${POPID_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
db="$dir/r.db"
"$popid" init --db "$db" >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }

# start NAME ARGS...: runs popid serve in the background; sets $pid and $port ($NAME.out/.err).
start() {
  local name=$1; shift
  "$popid" serve --db "$db" --listen 127.0.0.1:0 "$@" >"$dir/$name.out" 2>"$dir/$name.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do [ -s "$dir/$name.out" ] && break; sleep 0.02; done
  port=$(jq -r .port "$dir/$name.out" 2>/dev/null)
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] || { bad "$name did not start: $(cat "$dir/$name.err")"; exit 1; }
}
# req ARGS...: curl against the server; status in $code, body in $body, headers in $hdr.
req() {
  code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' "$@")
  body=$(cat "$dir/body")
  hdr=$(tr -d '\r' <"$dir/hdr")
}
base() { echo "http://127.0.0.1:$port"; }
# problem STATUS RULE: the last response is that problem, with the request id as instance.
problem() {
  check "status $1 (got $code)" test "$code" = "$1"
  check "problem+json for $2" test "$(header content-type)" = "application/problem+json"
  check "type of $2" test "$(jq -r .type <<<"$body")" = "https://popid.example/problems/$2"
  check "status field of $2" test "$(jq -r .status <<<"$body")" = "$1"
  check "title and detail of $2" test "$(jq -r '(.title|length > 0) and (.detail|length > 0)' <<<"$body")" = true
  check "instance of $2 is the request id" test "$(jq -r .instance <<<"$body")" = "$(header x-request-id)"
}
metric() { curl -s "$(base)/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

# -- usage
"$popid" serve --listen 127.0.0.1:0 >/dev/null 2>&1 </dev/null; rc=$?
check "serve without --db is a usage error" test "$rc" -eq 2
POPID_DB= "$popid" serve --db "$db" --threads 0 >/dev/null 2>&1; check "--threads 0 refused" test $? -eq 2
"$popid" serve --db "$db" --listen nonsense >/dev/null 2>&1; check "--listen without a port refused" test $? -eq 2
"$popid" serve --db "$db" --listen 127.0.0.1:70000 >/dev/null 2>&1; check "port over 65535 refused" test $? -eq 2
"$popid" serve --db "$dir/missing.db" --listen 127.0.0.1:0 >/dev/null 2>"$dir/err"; rc=$?
check "a missing registry fails to start (exit 1)" test "$rc" -eq 1
check "and says so" grep -q "missing.db" "$dir/err"

# -- a server with the defaults (two worker threads for the test)
start main --threads 2 --log
check "stdout line names the address" test "$(jq -r .listen "$dir/main.out")" = "127.0.0.1:$port"
check "stdout line gives the threads" test "$(jq -r .threads "$dir/main.out")" = 2

req "$(base)/healthz"
check "healthz 200" test "$code" = 200
check "healthz body" test "$body" = '{"status":"ok"}'
check "healthz is JSON" test "$(header content-type)" = application/json
check "a generated request id (24 hex digits)" grep -Eq '^[0-9a-f]{24}$' <<<"$(header x-request-id)"
id1=$(header x-request-id)
req "$(base)/healthz"
check "request ids differ" test "$(header x-request-id)" != "$id1"
req -I "$(base)/healthz"
check "HEAD healthz 200" test "$code" = 200
check "HEAD has no body" test "$(grep -c '"status"' "$dir/body")" -eq 0 # curl -I puts headers there

req -H "X-Request-Id: trace-42.a_b~c" "$(base)/healthz"
check "a sane X-Request-Id is echoed" test "$(header x-request-id)" = "trace-42.a_b~c"
req -H "X-Request-Id: bad id with spaces" "$(base)/nowhere"
check "an insane X-Request-Id is replaced" grep -Eq '^[0-9a-f]{24}$' <<<"$(header x-request-id)"
problem 404 not-found
req -H "X-Request-Id: $(printf 'x%.0s' $(seq 65))" "$(base)/healthz"
check "an overlong X-Request-Id is replaced" grep -Eq '^[0-9a-f]{24}$' <<<"$(header x-request-id)"

req "$(base)/v1"
check "index 200" test "$code" = 200
check "index names the OpenAPI document" test "$(jq -r .openapi <<<"$body")" = /v1/openapi.json

req "$(base)/v1/openapi.json"
check "openapi 200" test "$code" = 200
check "openapi is valid JSON" jq -e . "$dir/body" >/dev/null
check "openapi is OpenAPI 3.1" test "$(jq -r .openapi "$dir/body")" = 3.1.0
check "openapi lists the paths" test "$(jq -c '[.paths | keys[] | select(IN("/healthz", "/metrics", "/v1", "/v1/openapi.json"))]' "$dir/body")" = '["/healthz","/metrics","/v1","/v1/openapi.json"]'
check "openapi is docs/openapi.json as built" cmp -s "$dir/body" "$src/docs/openapi.json"
check "openapi describes problems" test "$(jq -r '.components.schemas.Problem.required | join(",")' "$dir/body")" = "type,title,status"

# -- errors
req -H "X-Request-Id: req-404" "$(base)/v1/people/001090012345"
problem 404 not-found
check "404 echoes the request id" test "$(header x-request-id)" = req-404
req -X POST "$(base)/healthz"
problem 405 method-not-allowed
check "405 has Allow" test "$(header allow)" = "GET, HEAD"
req -X DELETE "$(base)/v1/openapi.json"
problem 405 method-not-allowed
req "$(base)/healthz/"
problem 404 not-found
req "$(base)/v1/openapi%2Ejson"
problem 404 not-found
req "$(base)/$(head -c 2100 /dev/zero | tr '\0' a)"
problem 414 uri-too-long
req "$(base)/healthz?verbose=1"
check "a query string does not change the route" test "$code" = 200

# -- bodies: cap while receiving, UTF-8
head -c 70000 /dev/zero | tr '\0' a >"$dir/big"
req -X POST --data-binary @"$dir/big" "$(base)/healthz"
problem 413 body-too-large
req -X POST -H "Transfer-Encoding: chunked" --data-binary @"$dir/big" "$(base)/healthz"
problem 413 body-too-large
head -c 3000000 /dev/zero | tr '\0' a >"$dir/huge"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Transfer-Encoding: chunked" \
  --data-binary @"$dir/huge" "$(base)/healthz")
check "an endless chunked body is cut off (got $code)" test "$code" = 413 -o "$code" = 000 -o "$code" = 100
req "$(base)/healthz"
check "the server keeps serving after oversized bodies" test "$code" = 200
printf '{"name":"\xff"}' >"$dir/notutf8"
req -X POST --data-binary @"$dir/notutf8" "$(base)/healthz"
problem 400 body-not-utf8
printf '{"name":"\xed\xa0\x80"}' >"$dir/surrogate"
req -X POST --data-binary @"$dir/surrogate" "$(base)/healthz"
problem 400 body-not-utf8
printf '{"name":"Nguyễn"}' >"$dir/utf8"
req -X POST --data-binary @"$dir/utf8" "$(base)/healthz"
check "a UTF-8 body passes the body checks (then 405)" test "$code" = 405

# -- metrics
m1=$(metric 'popid_http_requests_total{method="GET",route="/healthz",code="200"}')
curl -s "$(base)/healthz" >/dev/null
curl -s "$(base)/healthz" >/dev/null
m2=$(metric 'popid_http_requests_total{method="GET",route="/healthz",code="200"}')
check "the healthz counter went up by 2 ($m1 -> $m2)" test "$((m2 - m1))" -eq 2
curl -s "$(base)/metrics" >"$dir/metrics"
req "$(base)/metrics"
check "metrics content type" test "$(header content-type)" = "text/plain; version=0.0.4; charset=utf-8"
check "404s are counted under unmatched" grep -q '^popid_http_requests_total{method="any",route="unmatched",code="404"} [1-9]' "$dir/metrics"
check "413s are counted" grep -q 'code="413"} [1-9]' "$dir/metrics"
check "histogram has +Inf" grep -q '^popid_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} [1-9]' "$dir/metrics"
check "in-flight gauge (this scrape)" grep -q '^popid_http_requests_in_flight 1$' "$dir/metrics"
check "store connections are counted" grep -Eq '^popid_store_connections [12]$' "$dir/metrics"
check "every sample has HELP and TYPE" awk '
  /^# TYPE / { fam = $3; next } /^# HELP / { next }
  { name = $1; sub(/\{.*/, "", name); if (index(name, fam) != 1 || NF != 2 || $2 !~ /^[0-9.e+-]+$/) { print "bad: " $0; bad = 1 } }
  END { exit bad }' "$dir/metrics"
check "no raw path in metrics" test "$(grep -c 001090012345 "$dir/metrics")" -eq 0

# -- logs: one line per request, never a path or a body
check "log lines name method, route, status, time and id" \
  grep -Eq '^popid http: method=GET route=/healthz status=200 us=[0-9]+ id=trace-42.a_b~c$' "$dir/main.err"
check "the log holds no personal ID from a path" test "$(grep -c 001090012345 "$dir/main.err")" -eq 0
check "the log holds no body" test "$(grep -c Nguy "$dir/main.err")" -eq 0

# -- a taken port
"$popid" serve --db "$db" --listen "127.0.0.1:$port" >/dev/null 2>"$dir/taken.err"; rc=$?
check "a taken port exits 1 (got $rc)" test "$rc" -eq 1
check "and says why" grep -q "Address already in use" "$dir/taken.err"

# -- graceful stop: a request in progress (headers in, body half sent) is answered
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345' >&3
sleep 0.3
kill -TERM "$pid"
sleep 0.3
printf '67890' >&3
resp=$(timeout 5 cat <&3 | tr -d '\r' | head -1)
exec 3<&-
check "the request in progress got its answer ($resp)" test "$resp" = "HTTP/1.1 405 Method Not Allowed"
wait "$pid"; rc=$?
check "SIGTERM exits 0 (got $rc)" test "$rc" -eq 0
check "the stop is logged" grep -q "SIGTERM, stopping" "$dir/main.err"

# -- slow clients: --timeout closes them, others are served meanwhile
start slow --threads 1 --timeout 2
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: t\r\nX-Partial: ' >&3
exec 4<>"/dev/tcp/127.0.0.1/$port" # says nothing at all
t0=$(date +%s%N)
req "$(base)/healthz"
check "served while slow clients hang (one thread)" test "$code" = 200
timeout 10 cat <&3 >/dev/null
t1=$(date +%s%N)
timeout 10 cat <&4 >/dev/null
exec 3<&- 4<&-
ms=$(( (t1 - t0) / 1000000 ))
check "the slow client was closed after the timeout (${ms} ms)" test "$ms" -ge 1500 -a "$ms" -lt 8000
check "the timeout is counted" test "$(metric 'popid_http_requests_aborted_total{reason="timeout"}')" -ge 1
kill -INT "$pid"; wait "$pid"; rc=$?
check "SIGINT exits 0 (got $rc)" test "$rc" -eq 0

# -- the store goes away: 503, and back: 200 (workers open their connection on first use)
start gone --threads 1
mv "$db" "$db.away"
req "$(base)/healthz"
problem 503 store-unavailable
check "503 does not leak the store path" test "$(grep -c "$dir" <<<"$body")" -eq 0
mv "$db.away" "$db"
req "$(base)/healthz"
check "healthz recovers when the store is back" test "$code" = 200
kill -TERM "$pid"; wait "$pid"

# -- a small body cap
start cap --threads 1 --max-body 1000
head -c 1000 /dev/zero | tr '\0' a >"$dir/b1000"
head -c 1001 /dev/zero | tr '\0' a >"$dir/b1001"
req -X POST --data-binary @"$dir/b1000" "$(base)/healthz"
check "a body at the cap passes (405)" test "$code" = 405
req -X POST --data-binary @"$dir/b1001" "$(base)/healthz"
problem 413 body-too-large
check "413 names the cap" grep -q "1000 bytes" <<<"$body"
kill -TERM "$pid"; wait "$pid"

finish
