#!/usr/bin/env bash
# Integration test of eID code delivery (docs/EID.md "Code delivery"): the real binary ($POPID)
# with a REAL webhook receiver (tests/cli/otp_receiver.py) standing in for the SMS/e-mail gateway.
# `popid serve --notify-url` runs on the database while the CLI requests accounts: `popid eid
# request` queues the activation code's sealed message in the outbox, the server's delivery thread
# (which polls the store, so a message committed by another process is found) POSTs it, signed,
# to the receiver, and `popid eid activate` with the code the receiver got works. The same for an
# e-mail-only account and for an unlock code; a message queued while no server runs is delivered
# once one starts; --show-code queues nothing; the code never appears in clear in the database,
# its WAL or the audit files; the audit log has the delivery.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db" POPID_ACTOR="test:eid-notify"
"$popid" init >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
"$popid" demo --people 80 --seed 7 >/dev/null 2>&1 || { echo "FAIL: demo" >&2; exit 1; }
"$popid" export --format jsonl --out "$dir/all.jsonl" >/dev/null 2>&1
mapfile -t adults < <(jq -r 'select(.status == "living" and .nationality == "VNM" and
                                     .dob < "2000") | .pid' "$dir/all.jsonl")
[ "${#adults[@]}" -ge 5 ] || { echo "FAIL: demo lacks adults" >&2; exit 1; }
A=${adults[0]} B=${adults[1]} C=${adults[2]} D=${adults[3]} E=${adults[4]}

umask 077
printf 'gateway-shared-secret\n' >"$dir/secret"
rpid=
spid=
start_server() {
  serve_start --notify-url "http://127.0.0.1:$rport/hook" --notify-secret "$dir/secret" \
    --notify-backoff-ms 100 --notify-attempts 4
}
# Waits (bounded, not a timing assertion) until the receiver logged a 200 for a message of topic
# to a destination; prints that line.
received() {
  receiver_wait '.body.topic == $t and .body.to == $to and .status == 200' --arg t "$1" --arg to "$2"
}
codes=()
# delivered TOPIC TO: the code the receiver got (checks the signature and the message's shape).
delivered() {
  local msg
  msg=$(received "$1" "$2") || { bad "the receiver never got the $1 message for $2"; return 1; }
  eq "$1 to $2: signature" "$(jq -r .sig_ok <<<"$msg")" true
  eq "$1 to $2: content type" "$(jq -r .content_type <<<"$msg")" application/json
  check "$1 to $2: no personal ID in the message" test "$(jq -r '.body.pid // "none"' <<<"$msg")" = none
  dcode=$(jq -r .body.code <<<"$msg")
  check "$1 to $2: an 8-digit code" grep -Eq '^[0-9]{8}$' <<<"$dcode"
  check "$1 to $2: the text holds the code" grep -q "$dcode" <<<"$(jq -r .body.text <<<"$msg")"
  codes+=("$dcode")
}

receiver_start
start_server

# ---- 1. request via the CLI while the server runs -> the receiver gets the code -> activate ----
out=$("$popid" eid request "$A" --phone +84901234567 --compact 2>"$dir/err")
eq "request exits 0" "$?" 0
eq "sent to, masked" "$(jq -r .code_sent_to <<<"$out")" "+84******567"
eq "channel" "$(jq -r .channel <<<"$out")" sms
check "an outbox id" grep -Eq '^[0-9]+$' <<<"$(jq -r .outbox_id <<<"$out")"
check "no code on the operator's screen" test "$(jq -r '.code // "none"' <<<"$out")" = none
check "the operator is told it is queued" grep -q "queued in the outbox" "$dir/err"
if delivered eid-activation +84901234567; then
  eq "channel in the message" "$(received eid-activation +84901234567 | jq -r .body.channel)" sms
  printf '%s\n' "$dcode" | "$popid" eid activate "$A" >/dev/null 2>"$dir/err"
  eq "activate with the delivered code" "$?" 0
  out=$("$popid" eid show "$A" --compact 2>/dev/null)
  eq "A is active" "$(jq -r .state <<<"$out")" active
fi

# ---- 2. an e-mail-only account gets its code by e-mail ----
out=$("$popid" eid request "$B" --email binh.tran@example.vn --compact 2>/dev/null)
eq "e-mail channel" "$(jq -r .channel <<<"$out")" email
eq "e-mail masked" "$(jq -r .code_sent_to <<<"$out")" "b********@example.vn"
if delivered eid-activation binh.tran@example.vn; then
  eq "e-mail message channel" \
    "$(received eid-activation binh.tran@example.vn | jq -r .body.channel)" email
  printf '%s\n' "$dcode" | "$popid" eid activate "$B" >/dev/null 2>&1
  eq "activate B with the e-mailed code" "$?" 0
fi

# ---- 3. the unlock code goes the same way ----
printf 'Hoa sen 2026 xanh\n' | "$popid" eid password "$A" >/dev/null 2>&1 || bad "password"
printf 'Hoa sen 2026 xanh\n' | "$popid" eid lock "$A" >/dev/null 2>&1 || bad "lock"
out=$("$popid" eid unlock "$A" --send-code --compact 2>/dev/null)
eq "unlock code sent to" "$(jq -r .code_sent_to <<<"$out")" "+84******567"
if delivered eid-unlock +84901234567; then
  printf '%s\n' "$dcode" | "$popid" eid unlock "$A" --code >/dev/null 2>&1
  eq "unlock with the delivered code" "$?" 0
  printf 'Hoa sen 2026 xanh\n' | "$popid" eid login "$A" >/dev/null 2>&1
  eq "login after unlocking" "$?" 0
fi

# ---- 4. queued while no server runs -> delivered when one starts ----
kill -TERM "$spid"
wait "$spid" 2>/dev/null
out=$("$popid" eid request "$C" --phone +84907654321 --compact 2>/dev/null)
check "queued with no server running" grep -Eq '^[0-9]+$' <<<"$(jq -r .outbox_id <<<"$out")"
start_server
if delivered eid-activation +84907654321; then
  printf '%s\n' "$dcode" | "$popid" eid activate "$C" >/dev/null 2>&1
  eq "activate C with the code delivered after the restart" "$?" 0
fi

# ---- 5. --show-code (offline enrolment) queues nothing ----
out=$("$popid" eid request "$D" --phone +84900000004 --show-code --compact 2>/dev/null)
check "offline: the code is shown" grep -Eq '^[0-9]{8}$' <<<"$(jq -r .code <<<"$out")"
eq "offline: no outbox id" "$(jq -r '.outbox_id // "none"' <<<"$out")" none
eq "offline: sent nowhere" "$(jq -r .code_sent_to <<<"$out")" null
codes+=("$(jq -r .code <<<"$out")")
# E's message is queued after D's request: once E's is delivered, D's would have been too
# (oldest first), so its absence is not a matter of timing.
"$popid" eid request "$E" --phone +84900000005 --compact >/dev/null 2>&1 || bad "request E"
delivered eid-activation +84900000005
check "offline: nothing delivered for D" \
  test -z "$(jq -c 'select(.body.to == "+84900000004")' "$dir/received.jsonl")"

# ---- 6. the audit log has the deliveries; no code in clear in any database file ----
out=$("$popid" audit log "$A" --limit 100 --compact 2>/dev/null)
for a in eid.request eid-activation.deliver eid.activate eid.unlock-code eid-unlock.deliver \
  eid.unlock; do
  check "audited for A: $a" grep -q "\"$a\"" <<<"$out"
done
kill -TERM "$spid"
wait "$spid" 2>/dev/null
check "the outbox key file is private" test "$(stat -c %a "$dir/r.db.outbox.key")" = 600
for f in "$dir"/r.db*; do
  case $f in *.key) continue ;; esac
  for c in "${codes[@]}"; do
    check "no code $c in $(basename "$f")" bash -c "! grep -aq '$c' '$f'"
  done
done

finish
