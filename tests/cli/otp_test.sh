#!/usr/bin/env bash
# Integration test of OTP delivery and eKYC (docs/AUTH.md "OTP"): the real binary ($POPID) on a
# free port with a REAL webhook receiver (tests/cli/otp_receiver.py, python3's http.server) that
# records what it gets and checks the HMAC signature. POST /v1/auth/otp -> the receiver gets the
# signed message with the OTP -> POST /v1/ekyc with it returns only the granted fields and a JWS
# over them -> the same OTP again is refused; a wrong code, another client's txn; the receiver
# answering 500 then 200 -> delivered after a retry (and /metrics says so); the server killed with
# an undelivered message -> delivered after the restart; refusals (deceased, no account,
# suspended account, role, rate limit with Retry-After); the access log shows request, delivery
# attempts and eKYC.
. "$(dirname "$0")/lib.sh"

demo_registry 80 5
mapfile -t adults < <(living_adults)
dead=$(jq -r 'select(.status == "deceased") | .pid' "$dir/all.jsonl" | head -1)
[ "${#adults[@]}" -ge 5 ] && [ -n "$dead" ] || { echo "FAIL: demo lacks people" >&2; exit 1; }
A=${adults[0]} B=${adults[1]} C=${adults[2]} S=${adults[3]} N=${adults[4]}

# eID accounts: A and C by phone, B by e-mail only, S suspended, N none.
eid_account "$A" --phone +84901234567
eid_account "$B" --email binh.tran@example.vn
eid_account "$C" --phone +84907654321
eid_account "$S" --phone +84900000001
"$popid" eid suspend "$S" --reason "court order" >/dev/null 2>&1 || bad "suspend"

client() { client_add bank "$@"; }
client bank --roles verifier --fields pid,name,dob --grants verify_codes --purposes kyc \
  --rate 1000 --burst 1000
client telco --roles verifier --fields pid,sex --purposes kyc --rate 1000 --burst 1000
client reader --roles reader --fields pid,name --purposes kyc --rate 1000 --burst 1000
client scoped --roles verifier --fields pid,name --grants verify_codes --purposes kyc \
  --provinces 01 --rate 1000 --burst 1000
client admin --roles admin --grants access_log --rate 1000 --burst 1000

# The gateway stand-in and its shared secret.
umask 077
printf 'gateway-shared-secret\n' >"$dir/secret"
start_server() { serve_start "$@"; U=$url; }
notify=(--notify-secret "$dir/secret" --notify-backoff-ms 100 --notify-attempts 4)
receiver_start
start_server --notify-url "http://127.0.0.1:$rport/hook" "${notify[@]}"

req() {
  local c=$1 path=$2 data=$3
  code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $(tok "$c")" -H 'Content-Type: application/json' \
    --data-binary "$data" "$U$path")
  body=$(cat "$dir/body")
}
rule() { jq -r .type <<<"$body" | sed 's|.*/||'; }
# Waits (bounded, not a timing assertion) until the receiver logged a message of txn with a
# status; prints that line.
received() { receiver_wait '.body.txn == $t and .status == $s' --arg t "$1" --argjson s "$2"; }

# ---- 1. OTP -> the receiver gets it signed -> eKYC -> reuse refused ----
req bank /v1/auth/otp "{\"pid\":\"$A\"}"
eq "otp request status" "$code" 202
txn=$(jq -r .txn <<<"$body")
check "txn is 32 hex digits" grep -Eq '^[0-9a-f]{32}$' <<<"$txn"
eq "channel" "$(jq -r .channel <<<"$body")" sms
eq "sent_to masked" "$(jq -r .sent_to <<<"$body")" "+84******567"
check "the answer holds no code" test "$(jq -r '.otp // "none"' <<<"$body")" = none
msg=$(received "$txn" 200) || bad "the receiver never got the OTP of $txn"
eq "signature holds" "$(jq -r .sig_ok <<<"$msg")" true
eq "posted to the configured path" "$(jq -r .path <<<"$msg")" /hook
eq "JSON body" "$(jq -r .content_type <<<"$msg")" application/json
eq "to the registered phone" "$(jq -r .body.to <<<"$msg")" "+84901234567"
otp=$(jq -r .body.otp <<<"$msg")
check "6 digits" grep -Eq '^[0-9]{6}$' <<<"$otp"
check "the text carries the code" grep -q "$otp" <<<"$(jq -r .body.text <<<"$msg")"
check "never in clear in the database or its WAL" \
  test -z "$(cat "$dir"/r.db "$dir"/r.db-wal 2>/dev/null | grep -a "\"otp\":\"$otp\"")"

wrong=$(printf '%06d' $(( (10#$otp + 1) % 1000000 )))
req bank /v1/ekyc "{\"pid\":\"$A\",\"txn\":\"$txn\",\"otp\":\"$wrong\",\"purpose\":\"kyc\"}"
eq "wrong code" "$code $(rule)" "403 otp-wrong"
req telco /v1/ekyc "{\"pid\":\"$A\",\"txn\":\"$txn\",\"otp\":\"$otp\",\"purpose\":\"kyc\"}"
eq "another client's txn" "$code $(rule)" "403 otp-unknown"
req bank /v1/ekyc "{\"pid\":\"$A\",\"txn\":\"$txn\",\"otp\":\"$otp\",\"purpose\":\"nope\"}"
eq "a purpose not the client's" "$code $(rule)" "403 purpose-not-allowed"
req bank /v1/ekyc "{\"pid\":\"$A\",\"txn\":\"$txn\",\"otp\":\"$otp\",\"purpose\":\"kyc\"}"
eq "ekyc status" "$code" 200
eq "only the granted fields" "$(jq -c '.person | keys' <<<"$body")" '["dob","full_name","pid"]'
eq "the person asked about" "$(jq -r .person.pid <<<"$body")" "$A"
jws=$(jq -r .signed <<<"$body")
payload=$(python3 -c 'import base64, sys
s = sys.argv[1].split(".")[1]
print(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode())' "$jws")
eq "the JWS covers the released fields" "$(jq -c .person <<<"$payload" 2>/dev/null)" \
  "$(jq -c .person <<<"$body")"
eq "the JWS names the txn" "$(jq -r .txn <<<"$payload" 2>/dev/null)" "$txn"
"$popid" key show >"$dir/jwk.json" 2>/dev/null
if python3 -c 'import cryptography' 2>/dev/null; then
  python3 - "$dir/jwk.json" "$jws" <<'EOF' && ok || bad "the JWS does not verify with the registry's key"
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
jwk = json.load(open(sys.argv[1]))
h, p, s = sys.argv[2].split(".")
pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"),
                                    int.from_bytes(b64(jwk["y"]), "big"), ec.SECP256R1()).public_key()
sig = b64(s)
pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
           (h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
EOF
fi
req bank /v1/ekyc "{\"pid\":\"$A\",\"txn\":\"$txn\",\"otp\":\"$otp\",\"purpose\":\"kyc\"}"
eq "the same OTP again" "$code $(rule)" "403 otp-used"
req bank /v1/ekyc "{\"pid\":\"$A\",\"txn\":\"$txn\",\"otp\":\"12345\",\"purpose\":\"kyc\"}"
eq "a malformed code" "$code $(rule)" "400 otp-malformed"

# e-mail channel; and a channel the account does not have
req bank /v1/auth/otp "{\"pid\":\"$B\",\"channel\":\"sms\"}"
eq "no phone registered" "$code $(rule)" "422 otp-no-channel"
req bank /v1/auth/otp "{\"pid\":\"$B\"}"
eq "e-mail channel" "$code $(jq -r .channel <<<"$body") $(jq -r .sent_to <<<"$body")" \
  "202 email b********@example.vn"

# ---- 2. the receiver fails first: 500, then 200 -> delivered after a retry ----
echo "500" >"$dir/plan"
req bank /v1/auth/otp "{\"pid\":\"$C\"}"
eq "otp for the retry case" "$code" 202
txn2=$(jq -r .txn <<<"$body")
first=$(received "$txn2" 500) || bad "no first (failed) attempt for $txn2"
second=$(received "$txn2" 200) || bad "no retry delivered $txn2"
eq "the retry is the same message" "$(jq -r .id <<<"$first")" "$(jq -r .id <<<"$second")"
eq "the retry is signed too" "$(jq -r .sig_ok <<<"$second")" true
metrics=$(curl -s "$U/metrics")
check "metrics count the failed attempt" \
  grep -Eq '^popid_outbox_failures_total [1-9]' <<<"$metrics"
check "metrics show nothing pending" grep -q 'popid_outbox_messages{state="pending"} 0' \
  <<<"$metrics"
check "metrics show deliveries" grep -Eq 'popid_outbox_messages\{state="delivered"\} [3-9]' \
  <<<"$metrics"

# ---- 3. killed with an undelivered message -> delivered after the restart ----
kill -KILL "$spid"
wait "$spid" 2>/dev/null
start_server # no --notify-url: the message stays in the outbox
req bank /v1/auth/otp "{\"pid\":\"$C\"}"
eq "otp while the webhook is not configured" "$code" 202
txn3=$(jq -r .txn <<<"$body")
check "pending in /metrics" grep -q 'popid_outbox_messages{state="pending"} 1' \
  <<<"$(curl -s "$U/metrics")"
kill -KILL "$spid"
wait "$spid" 2>/dev/null
check "not delivered before the restart" test -z "$(jq -c --arg t "$txn3" \
  'select(.body.txn == $t)' "$dir/received.jsonl")"
start_server --notify-url "http://127.0.0.1:$rport/hook" "${notify[@]}"
msg3=$(received "$txn3" 200) || bad "the undelivered message was not sent after the restart"
otp3=$(jq -r .body.otp <<<"$msg3")
req bank /v1/ekyc "{\"pid\":\"$C\",\"txn\":\"$txn3\",\"otp\":\"$otp3\",\"purpose\":\"kyc\"}"
eq "ekyc with the OTP delivered after the restart" "$code" 200

# ---- 4. the otp attribute of POST /v1/auth/verify ----
req bank /v1/auth/otp "{\"pid\":\"$C\"}"
txn4=$(jq -r .txn <<<"$body")
msg4=$(received "$txn4" 200) || bad "no OTP for the verify case"
otp4=$(jq -r .body.otp <<<"$msg4")
vbody="{\"pid\":\"$C\",\"otp\":\"$otp4\",\"otp_txn\":\"$txn4\",\"match\":\"exact\"}"
req bank "/v1/auth/verify?purpose=kyc" "$vbody"
eq "verify with the right OTP" "$code $(jq -r .result <<<"$body")" "200 yes"
req bank "/v1/auth/verify?purpose=kyc" "$vbody"
eq "verify with the same OTP again" "$code $(jq -r .result <<<"$body") $(jq -r .code <<<"$body")" \
  "200 no otp-mismatch"
req bank "/v1/auth/verify?purpose=kyc" "{\"pid\":\"$C\",\"otp\":\"$otp4\",\"match\":\"exact\"}"
eq "otp without otp_txn" "$code $(rule)" "400 otp-txn"

# ---- 5. refusals ----
req bank /v1/auth/otp "{\"pid\":\"$dead\"}"
eq "deceased" "$code $(rule)" "422 person-deceased"
req bank /v1/auth/otp "{\"pid\":\"$N\"}"
eq "no eID account" "$code $(rule)" "422 eid-none"
req bank /v1/auth/otp "{\"pid\":\"$S\"}"
eq "suspended account" "$code $(rule)" "422 eid-suspended"
req bank /v1/auth/otp "{\"pid\":\"${A:0:6}999999\"}"
eq "unknown person" "$code $(rule)" "404 person-not-found"
# Without verify_codes (the telco) the reasons are one answer, telling neither whether the ID
# exists nor whether the person died; the audit entry keeps the real rule.
for p in "$dead" "$N" "$S" "${A:0:6}999999"; do
  req telco /v1/auth/otp "{\"pid\":\"$p\"}"
  eq "telco refused for $p" "$code $(rule)" "422 otp-not-possible"
done
curl -s -H "Authorization: Bearer $(tok admin)" "$U/v1/persons/$dead/access-log?limit=100" \
  >"$dir/logd.json"
eq "the uniform refusal is audited with its reason" \
  "$(jq -r '[.entries[] | select(.actor == "client:telco" and .action == "auth.otp") | .outcome + ":" + .rule] | join(" ")' "$dir/logd.json")" \
  "denied:person-deceased"
# A scoped client: an unknown ID is outside its scope like a person of another province (403,
# not 404: the refusal does not tell whether the ID exists).
req scoped /v1/auth/otp "{\"pid\":\"${A:0:6}999999\"}"
eq "scoped client, unknown person" "$code $(rule)" "403 province-out-of-scope"
req reader /v1/auth/otp "{\"pid\":\"$A\"}"
eq "reader role" "$code $(rule)" "403 role-missing"
req bank /v1/auth/otp "{\"pid\":\"$A\",\"code\":1}"
eq "unknown member" "$code" 400
req bank /v1/auth/otp "{\"pid\":\"$A\",\"channel\":\"fax\"}"
eq "unknown channel" "$code $(rule)" "400 otp-channel"
# A has had 1 OTP: 4 more, then the person's limit (5 per 15 minutes).
for _ in 1 2 3 4; do req bank /v1/auth/otp "{\"pid\":\"$A\"}"; eq "within the limit" "$code" 202; done
req bank /v1/auth/otp "{\"pid\":\"$A\"}"
eq "over the person's limit" "$code $(rule)" "429 otp-rate-person"
check "Retry-After" grep -qi '^Retry-After: [1-9]' "$dir/hdr"

# ---- 6. the citizen's access log ----
curl -s -H "Authorization: Bearer $(tok admin)" "$U/v1/persons/$A/access-log?limit=100" \
  >"$dir/log.json"
acts=$(jq -r '[.entries[] | .action + ":" + .outcome] | join(" ")' "$dir/log.json")
check "the OTP request is in the access log" grep -q "auth.otp:ok" <<<"$acts"
check "the delivery is in the access log" grep -q "otp.deliver:ok" <<<"$acts"
check "the eKYC is in the access log" grep -q "ekyc:ok" <<<"$acts"
check "the refused codes are in the access log" grep -q "ekyc:denied" <<<"$acts"
check "the rate-limit refusal is in the access log" grep -q "auth.otp:denied" <<<"$acts"
eq "the eKYC entry names the fields released" \
  "$(jq -r '[.entries[] | select(.action == "ekyc" and .outcome == "ok") | .fields][0] |
            if type == "array" then join(",") else . end' "$dir/log.json")" "dob,name,pid"
curl -s -H "Authorization: Bearer $(tok admin)" "$U/v1/persons/$C/access-log?limit=100" \
  >"$dir/logc.json"
check "the failed delivery attempt is in the access log" \
  grep -q "otp.deliver:error" <<<"$(jq -r '[.entries[] | .action + ":" + .outcome] |
                                           join(" ")' "$dir/logc.json")"

kill -TERM "$spid"
wait "$spid" 2>/dev/null
"$popid" audit verify >/dev/null 2>&1 && ok || bad "audit verify after the run"

finish
