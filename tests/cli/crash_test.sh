#!/usr/bin/env bash
# Crash safety of API writes (DESIGN.md's durability rule): `popid serve` on a free port under a
# write load (several concurrent curl loops posting card.renew / card.issue events for demo
# people, each with a unique Idempotency-Key), killed with SIGKILL at a random moment, several
# cycles. Every acknowledged (201) event must then be in the journal under the seq it was
# acknowledged with, with actor client:<id>, its idempotency record, and its audit entry (the
# response's request id, outcome ok); retrying every key once (acknowledged or not) returns
# the kept answer or applies once; `popid check` and `popid audit verify` pass.
. "$(dirname "$0")/lib.sh"

cleanup() {
  touch "$dir/stop"
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$dir"
}
CYCLES=${CRASH_CYCLES:-5}
WRITERS=${CRASH_WRITERS:-4}
export POPID_DB="$dir/r.db"
"$popid" init >/dev/null 2>&1 && "$popid" demo --people 300 --seed 7 >/dev/null 2>&1 ||
  { echo "FAIL: init/demo" >&2; exit 1; }
tok=$("$popid" client add --id crash --name crash --kind province --roles registrar \
  --purposes civil-registration --provinces all --rate 100000 2>/dev/null | jq -r .token)
[[ "$tok" == popid_* ]] || { echo "FAIL: client add" >&2; exit 1; }
# Living people with a valid card (card.renew always applies) and without one (card.issue).
sqlite3 "$POPID_DB" "SELECT printf('%012d', c.pid) FROM card c JOIN person p ON p.pid = c.pid
  WHERE c.status = 0 AND p.status = 0 ORDER BY c.pid" >"$dir/carded"
sqlite3 "$POPID_DB" "SELECT printf('%012d', pid) FROM person WHERE status = 0 AND pid NOT IN
  (SELECT pid FROM card WHERE status = 0) ORDER BY pid" >"$dir/uncarded"
mapfile -t carded <"$dir/carded"
mapfile -t uncarded <"$dir/uncarded"
[ "${#carded[@]}" -gt 10 ] || { echo "FAIL: too few demo people with cards" >&2; exit 1; }

start() { serve_start --threads 4; srv=$spid; }

# post PORT KEY BODY: one attempt; prints "code request-id seq".
post() {
  local h="$dir/h.$BASHPID" b="$dir/b.$BASHPID" code
  code=$(curl -s -m 10 -o "$b" -D "$h" -w '%{http_code}' -X POST \
    "http://127.0.0.1:$1/v1/events?purpose=civil-registration" \
    -H "Authorization: Bearer $tok" -H "Idempotency-Key: $2" --data-binary "$3")
  local rid seq
  rid=$({ tr -d '\r' <"$h"; } 2>/dev/null | awk 'tolower($1) == "x-request-id:" { print $2 }')
  seq=$({ jq -r '.seq // empty' <"$b"; } 2>/dev/null)
  echo "$code ${rid:--} ${seq:--}"
}

# writer N CYCLE PORT: posts until $dir/stop; every attempt goes to tried.N ("key body"), every
# 201 to acked.N ("key seq request-id").
writer() {
  local w=$1 c=$2 p=$3 n=0
  while [ ! -e "$dir/stop" ]; do
    n=$((n + 1))
    local key="w$w-c$c-n$n" body pid
    if [ $((RANDOM % 4)) -eq 0 ] && [ "${#uncarded[@]}" -gt 0 ]; then
      pid=${uncarded[RANDOM % ${#uncarded[@]}]}
      body='{"type":"card.issue","pid":"'$pid'"}'
    else
      pid=${carded[RANDOM % ${#carded[@]}]}
      body='{"type":"card.renew","pid":"'$pid'","reason":"crash-test"}'
    fi
    echo "$key $body" >>"$dir/tried.$w"
    read -r code rid seq < <(post "$p" "$key" "$body")
    [ "$code" = 201 ] && echo "$key $seq $rid" >>"$dir/acked.$w"
  done
}

t0=$SECONDS
for c in $(seq "$CYCLES"); do
  start
  rm -f "$dir/stop"
  ws=()
  for w in $(seq "$WRITERS"); do
    writer "$w" "$c" "$port" &
    ws+=($!)
  done
  # A random moment: 0.4 to 1.6 s into the load.
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.4 + (r % 1200) / 1000 }')"
  kill -KILL "$srv"
  wait "$srv" 2>/dev/null
  touch "$dir/stop"
  wait "${ws[@]}"
done
cat "$dir"/acked.* >"$dir/acked" 2>/dev/null
cat "$dir"/tried.* >"$dir/tried" 2>/dev/null
n_acked=$(wc -l <"$dir/acked")
n_tried=$(wc -l <"$dir/tried")
check "the load acknowledged events ($n_acked of $n_tried)" test "$n_acked" -gt 20

# Every acknowledged event: in the journal under its seq, by the client, with its idempotency
# record and its audit entry.
sqlite3 "$POPID_DB" "SELECT seq, actor FROM event WHERE actor = 'client:crash'" | tr '|' ' ' |
  sort >"$dir/journal"
sqlite3 "$POPID_DB" "SELECT key, json_extract(body, '$.seq') FROM idempotency WHERE client = 'crash'" |
  tr '|' ' ' | sort >"$dir/idem"
sqlite3 "$POPID_DB.audit" "SELECT DISTINCT request_id FROM audit_entry WHERE actor = 'client:crash'
  AND outcome = 'ok' AND action LIKE 'event.%'" | sort >"$dir/audited"
missing_j=0 missing_i=0 missing_a=0
while read -r key seq rid; do
  grep -qx "$seq client:crash" "$dir/journal" || { missing_j=$((missing_j + 1)); echo "not in journal: $key $seq" >&2; }
  grep -qx "$key $seq" "$dir/idem" || { missing_i=$((missing_i + 1)); echo "no idempotency record: $key $seq" >&2; }
  grep -qx -- "$rid" "$dir/audited" || { missing_a=$((missing_a + 1)); echo "not audited: $key $rid" >&2; }
done <"$dir/acked"
check "every acknowledged event is in the journal ($missing_j missing)" test "$missing_j" -eq 0
check "every acknowledged event kept its answer ($missing_i missing)" test "$missing_i" -eq 0
check "every acknowledged event is audited ($missing_a missing)" test "$missing_a" -eq 0
check "the journal holds no API event without its idempotency record" \
  test "$(sqlite3 "$POPID_DB" "SELECT count(*) FROM event WHERE actor = 'client:crash' AND seq NOT IN
    (SELECT json_extract(body, '$.seq') FROM idempotency WHERE client = 'crash')")" = 0

"$popid" check >/dev/null 2>&1; check "integrity check after the crashes" test $? -eq 0
"$popid" audit verify >"$dir/verify" 2>&1; check "audit verify after the crashes: $(cat "$dir/verify")" test $? -eq 0

# Retry every key once: an acknowledged one replays its seq; any other either replays (it was
# applied, its answer lost with the crash) or applies now, or is refused by a rule (a card.issue
# whose person got a card meanwhile); never a second event for one key.
start
events_before=$(sqlite3 "$POPID_DB" "SELECT count(*) FROM event")
replay_bad=0 retried=0
while read -r key body; do
  retried=$((retried + 1))
  read -r code rid seq < <(post "$port" "$key" "$body")
  want=$(awk -v k="$key" '$1 == k { print $2 }' "$dir/acked")
  if [ -n "$want" ] && { [ "$code" != 201 ] || [ "$seq" != "$want" ]; }; then
    replay_bad=$((replay_bad + 1))
    echo "retry of acknowledged $key: $code seq $seq, want $want" >&2
  fi
  case "$code" in 201 | 422) ;; *) replay_bad=$((replay_bad + 1)); echo "retry of $key: $code" >&2 ;; esac
done < <(shuf -n 200 --random-source=<(yes) "$dir/tried")
check "retries replay or apply once ($replay_bad bad of $retried)" test "$replay_bad" -eq 0
kill -TERM "$srv"
wait "$srv" 2>/dev/null
check "no key has two events" test "$(sqlite3 "$POPID_DB" "SELECT count(*) FROM event WHERE actor = 'client:crash'")" \
  = "$(sqlite3 "$POPID_DB" "SELECT count(*) FROM idempotency WHERE client = 'crash'")"
"$popid" audit verify >/dev/null 2>&1; check "audit verify at the end" test $? -eq 0
"$popid" check >/dev/null 2>&1; check "integrity check at the end" test $? -eq 0
echo "crash_test: $CYCLES cycles, $n_tried requests, $n_acked acknowledged, $((SECONDS - t0)) s;" \
  "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
