#!/usr/bin/env bash
# Integration test of the OTP's fate in a signing outage (docs/AUTH.md "OTP"): `popid serve`
# ($POPID) whose signing key file (--key) does not exist yet, as when it is being rotated or its
# volume is not mounted. POST /v1/auth/verify with an OTP and POST /v1/ekyc then answer 503
# signing-unavailable, and the person's codes must stay unspent: once the key file is in place
# (the server loads its signer on first use, so no restart) the same codes verify "yes" and
# release the eKYC answer, exactly once each. The OTPs come through a real webhook receiver
# (tests/cli/otp_receiver.py).
. "$(dirname "$0")/lib.sh"

demo_registry 80 5
mapfile -t adults < <(living_adults)
[ "${#adults[@]}" -ge 2 ] || { echo "FAIL: demo lacks people" >&2; exit 1; }
A=${adults[0]} C=${adults[1]}
eid_account "$A" --phone +84901234567
eid_account "$C" --phone +84907654321
client_add bank bank --roles verifier --fields pid,name,dob --grants verify_codes \
  --purposes kyc --rate 1000 --burst 1000

umask 077
printf 'gateway-shared-secret\n' >"$dir/secret"
receiver_start
key="$dir/late.key"
serve_start --key "$key" --notify-url "http://127.0.0.1:$rport/hook" \
  --notify-secret "$dir/secret" --notify-backoff-ms 100
post() {
  local path=$1 data=$2
  code=$(curl -s -o "$dir/body" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $(tok bank)" -H 'Content-Type: application/json' \
    --data-binary "$data" "$url$path")
  body=$(cat "$dir/body")
}
rule() { jq -r .type <<<"$body" | sed 's|.*/||'; }
# otp_for PID: asks for an OTP; sets $txn and $otp (as the receiver got it).
otp_for() {
  post /v1/auth/otp "{\"pid\":\"$1\"}"
  eq "otp request for $1" "$code" 202
  txn=$(jq -r .txn <<<"$body")
  local msg
  # shellcheck disable=SC2016 # $t is jq's variable
  msg=$(receiver_wait '.body.txn == $t and .status == 200' --arg t "$txn") ||
    bad "the receiver never got the OTP of $txn"
  otp=$(jq -r .body.otp <<<"$msg")
}
otp_for "$A"
vtxn=$txn votp=$otp
otp_for "$C"
ktxn=$txn kotp=$otp
verify_body="{\"pid\":\"$A\",\"otp\":\"$votp\",\"otp_txn\":\"$vtxn\",\"match\":\"exact\"}"
ekyc_body="{\"pid\":\"$C\",\"txn\":\"$ktxn\",\"otp\":\"$kotp\",\"purpose\":\"kyc\"}"

# The key cannot be read: 503, and the codes are not spent.
post "/v1/auth/verify?purpose=kyc" "$verify_body"
eq "verify without a key: 503" "$code" 503
eq "verify without a key: rule" "$(rule)" signing-unavailable
post /v1/ekyc "$ekyc_body"
eq "ekyc without a key: 503" "$code" 503
eq "ekyc without a key: rule" "$(rule)" signing-unavailable

# The key is back (the registry's own, made by init): the same codes work, once.
cp "$POPID_DB.key" "$key"
post "/v1/auth/verify?purpose=kyc" "$verify_body"
eq "verify with the key: 200" "$code" 200
eq "verify with the key: the OTP was not spent by the 503" "$(jq -r '.result + " " + .code' <<<"$body")" "yes ok"
post "/v1/auth/verify?purpose=kyc" "$verify_body"
eq "the OTP is single-use after all" "$(jq -r '.result + " " + .code' <<<"$body")" "no otp-mismatch"
post /v1/ekyc "$ekyc_body"
eq "ekyc with the key: 200" "$code" 200
eq "ekyc with the key: the person" "$(jq -r .person.pid <<<"$body")" "$C"
check "ekyc with the key: signed" test -n "$(jq -r '.signed // empty' <<<"$body")"
post /v1/ekyc "$ekyc_body"
check "the eKYC code is single-use after all (got $code)" test "$code" != 200

kill -TERM "$spid"
wait "$spid" 2>/dev/null
finish
