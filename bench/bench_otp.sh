#!/usr/bin/env bash
# OTP issue rate and outbox delivery rate, end to end: `popid serve` with the webhook pointed at
# tests/cli/otp_receiver.py (python3 http.server, one thread: the receiver is the ceiling here,
# as a real gateway would be). N requests of POST /v1/auth/otp over P people (5 each: the
# per-person limit), C concurrent curl clients; prints the issue rate (202s per second) and the
# time until the outbox has delivered every message (popid_outbox_messages pending 0).
# usage: bench/bench_otp.sh [POPID] [PEOPLE=40] [CONCURRENCY=4]
set -euo pipefail
popid=${1:-build/popid}
people=${2:-40}
conc=${3:-4}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT
export POPID_DB="$dir/r.db"
"$popid" init >/dev/null 2>&1
"$popid" demo --people $((people * 4)) --seed 7 >/dev/null 2>&1
"$popid" export --format jsonl --out "$dir/all.jsonl" >/dev/null 2>&1
jq -r 'select(.status == "living" and .card_issued != null and .dob < "2000") | .pid' \
  "$dir/all.jsonl" | head -n "$people" >"$dir/pids"
n_people=$(wc -l <"$dir/pids")
i=0
while read -r p; do
  i=$((i + 1))
  code=$("$popid" eid request "$p" --phone "+8490$(printf '%07d' "$i")" --show-code --compact \
    2>/dev/null | jq -r .code)
  printf '%s\n' "$code" | "$popid" eid activate "$p" >/dev/null 2>&1
done <"$dir/pids"
tok=$("$popid" client add --id bank --name bank --kind bank --roles verifier --fields pid \
  --purposes kyc --rate 100000 --burst 100000 2>/dev/null | jq -r .token)
umask 077
echo bench-secret >"$dir/secret"
python3 "$here/tests/cli/otp_receiver.py" "$dir/rport" "$dir/recv.jsonl" "$dir/secret" \
  "$dir/plan" &
pids+=($!)
for _ in $(seq 250); do [ -s "$dir/rport" ] && break; sleep 0.02; done
"$popid" serve --listen 127.0.0.1:0 --notify-url "http://127.0.0.1:$(cat "$dir/rport")/h" \
  --notify-secret "$dir/secret" >"$dir/s.out" 2>"$dir/s.err" &
pids+=($!)
for _ in $(seq 250); do [ -s "$dir/s.out" ] && break; sleep 0.02; done
port=$(jq -r .port "$dir/s.out")
for _ in 1 2 3 4 5; do cat "$dir/pids"; done >"$dir/reqs"
n=$(wc -l <"$dir/reqs")
t0=$(date +%s.%N)
xargs -P "$conc" -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $tok" \
  -d '{"pid":"{}"}' "http://127.0.0.1:$port/v1/auth/otp" <"$dir/reqs" >"$dir/codes"
t1=$(date +%s.%N)
while ! curl -s "http://127.0.0.1:$port/metrics" |
  grep -q 'popid_outbox_messages{state="pending"} 0'; do sleep 0.01; done
t2=$(date +%s.%N)
ok=$(grep -c '^202$' "$dir/codes" || true)
delivered=$(wc -l <"$dir/recv.jsonl")
echo "people=$n_people requests=$n accepted=$ok concurrency=$conc"
echo "issue: $(echo "$ok / ($t1 - $t0)" | bc -l | xargs printf '%.0f') OTP/s" \
  "(curl per request; each a write transaction + audit group commit)"
echo "delivered=$delivered, all delivered $(echo "($t2 - $t0)" | bc -l | xargs printf '%.2f') s" \
  "after the first request: $(echo "$delivered / ($t2 - $t0)" | bc -l | xargs printf '%.0f') msg/s"
