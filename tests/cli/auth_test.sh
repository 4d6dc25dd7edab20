#!/usr/bin/env bash
# Integration test of the verification endpoints of `popid serve` ($POPID): the real binary on a
# free port, a demo registry, clients made with `popid client add`, driven with curl and jq.
# POST /v1/auth/verify: yes and no in both match modes (NFD input, upper case, no diacritics,
# partial dates, sex, address), deceased and unknown IDs, the reason code shown only with the
# verify_codes grant, every refusal (401, 403 per rule, 400s), the signed answer checked against
# the registry's public JWK (`popid key show`, ES256 verified with python3's cryptography), and
# the access log showing each verification. POST /v1/auth/verify-batch: CSV and JSONL with good
# and malformed lines answered in order with line numbers, and its audit entries.
. "$(dirname "$0")/lib.sh"

db="$dir/r.db"
"$popid" init --db "$db" >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
"$popid" demo --db "$db" >/dev/null 2>&1 || { echo "FAIL: demo" >&2; exit 1; }
"$popid" export --db "$db" >"$dir/people.jsonl" 2>/dev/null || { echo "FAIL: export" >&2; exit 1; }

client() { client_add bank "$1" --db "$db" "${@:2}"; }
client bank --roles verifier --fields pid,name,dob,sex,permanent_residence --grants verify_codes --purposes kyc --rate 10000 --burst 10000
client telco --roles verifier --fields pid,name,dob --purposes kyc --rate 10000 --burst 10000
client reader --roles reader --fields pid,name,dob --purposes kyc --rate 10000 --burst 10000
client admin --roles admin --grants access_log --rate 10000 --burst 10000
# Scoped verifiers: one whose scope holds the living subject's province, one whose does not.
lprov=$(jq -r 'select(.status == "living" and .address.line != null and (.dob | length) == 10) | .address.province' "$dir/people.jsonl" | head -1)
# The 2025 unit holding that (maybe legacy) province code: the one a scope names.
lprov=$("$popid" region list | jq -r --arg p "$lprov" '.[] | select(any(.merged_from[]; .code == $p)) | .code')
oprov=$([ "$lprov" = 01 ] && echo 79 || echo 01)
client inscope --roles verifier --fields pid,name,dob --purposes kyc --provinces "$lprov" --rate 10000 --burst 10000
client outscope --roles verifier --fields pid,name,dob --purposes kyc --provinces "$oprov" --rate 10000 --burst 10000

serve_start --db "$db" --max-body 4096
B=$url

V="$B/v1/auth/verify?purpose=kyc"
verify() { local c=$1; shift; req "$c" -X POST -H 'Content-Type: application/json' --data-binary "$1" "$V"; }
problem() {
  eq "status for $2" "$code" "$1"
  eq "type of $2" "$(jq -r .type <<<"$body" 2>/dev/null)" "https://popid.example/problems/$2"
}
# answer RESULT CODE: the last answer, as the bank (codes shown) sees it.
answer() {
  eq "status ($3)" "$code" 200
  eq "result ($3)" "$(jq -r .result <<<"$body")" "$1"
  eq "code ($3)" "$(jq -r .code <<<"$body")" "$2"
}

# A living person with a permanent address, and a deceased one.
liv=$(jq -c 'select(.status == "living" and .address.line != null and (.dob | length) == 10)' "$dir/people.jsonl" | head -1)
dead=$(jq -c 'select(.status == "deceased")' "$dir/people.jsonl" | head -1)
pid=$(jq -r .pid <<<"$liv") name=$(jq -r .name <<<"$liv") dob=$(jq -r .dob <<<"$liv")
sex=$(jq -r .sex <<<"$liv") line=$(jq -r .address.line <<<"$liv")
dpid=$(jq -r .pid <<<"$dead") dname=$(jq -r .name <<<"$dead") ddob=$(jq -r .dob <<<"$dead")
check "a living and a deceased subject" test -n "$pid" -a -n "$dpid"
upper=$(python3 -c 'import sys; print(sys.argv[1].upper())' "$name")
nfd=$(python3 -c 'import sys, unicodedata; print(unicodedata.normalize("NFD", sys.argv[1]))' "$name")
ascii=$(python3 -c 'import sys, unicodedata; s = sys.argv[1].replace("đ", "d").replace("Đ", "D"); print("".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)))' "$name")
check "NFD differs from NFC" test "$nfd" != "$name"
bodyj() { jq -cn --arg pid "$1" --arg name "$2" --arg dob "$3" --arg match "$4" '{pid: $pid, name: $name, dob: $dob, match: $match}'; }

# -- yes and no
verify bank "$(bodyj "$pid" "$name" "$dob" exact)"
answer yes ok "exact name and dob"
check "txn" grep -Eq '^vt-[0-9a-f]{24}$' <<<"$(jq -r .txn <<<"$body")"
eq "answer keys" "$(jq -c keys <<<"$body")" '["code","result","signed","txn"]'
first_txn=$(jq -r .txn <<<"$body")
jws=$(jq -r .signed <<<"$body")
verify bank "$(bodyj "$pid" "$nfd" "$dob" exact)"
answer yes ok "NFD name"
verify bank "$(bodyj "$pid" "$upper" "$dob" exact)"
answer yes ok "upper case name"
verify bank "$(bodyj "$pid" "  $name " "$dob" exact)"
answer yes ok "spaces around the name"
if [ "$ascii" != "$name" ]; then
  verify bank "$(bodyj "$pid" "$ascii" "$dob" exact)"
  answer no name-mismatch "no diacritics, exact"
  verify bank "$(bodyj "$pid" "$ascii" "$dob" partial)"
  answer yes ok "no diacritics, partial"
fi
verify bank "$(bodyj "$pid" "$name" "${dob:0:4}" exact)"
answer no dob-mismatch "year only, exact"
verify bank "$(bodyj "$pid" "$name" "${dob:0:7}" partial)"
answer yes ok "year and month, partial"
verify bank "$(bodyj "$pid" "$name" "$(( ${dob:0:4} + 1 ))${dob:4}" partial)"
answer no dob-mismatch "wrong year"
verify bank "$(bodyj "$pid" "Hoàng Thị Xuân Mai" "$dob" partial)"
answer no name-mismatch "another name"
othersex=$([ "$sex" = male ] && echo female || echo male)
verify bank "$(jq -cn --arg pid "$pid" --arg s "$sex" '{pid: $pid, sex: $s, match: "exact"}')"
answer yes ok "sex"
verify bank "$(jq -cn --arg pid "$pid" --arg s "$othersex" '{pid: $pid, sex: $s, match: "exact"}')"
answer no sex-mismatch "other sex"
verify bank "$(jq -cn --arg pid "$pid" --arg a "$line" '{pid: $pid, address: $a, match: "exact"}')"
answer yes ok "address line"
verify bank "$(jq -cn --arg pid "$pid" --arg a "Số 999 đường Không Có" '{pid: $pid, address: $a, match: "partial"}')"
answer no address-mismatch "another address"
verify bank "$(bodyj "$dpid" "$dname" "$ddob" exact)"
answer no deceased "deceased"
verify bank "$(bodyj 001099000001 "$name" "$dob" exact)"
answer no pid-unknown "unknown pid"
verify bank "$(jq -cn --arg pid "$pid" '{pid: $pid, match: "exact"}')"
answer no no-attribute "nothing claimed"

# -- the code only with the verify_codes grant
verify telco "$(bodyj "$pid" "$name" "$dob" exact)"
eq "telco yes" "$(jq -r .result <<<"$body")" yes
eq "telco sees no code" "$(jq -c keys <<<"$body")" '["result","signed","txn"]'
verify telco "$(bodyj "$dpid" "$dname" "$ddob" exact)"
eq "telco no" "$(jq -r .result <<<"$body")" no
eq "telco sees no code on no" "$(jq -r 'has("code")' <<<"$body")" false
check "the telco's signed answer has no code" python3 -c '
import base64, json, sys
p = sys.argv[1].split(".")[1]
d = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
sys.exit(0 if "code" not in d and d["result"] == "no" else 1)' "$(jq -r .signed <<<"$body")"

# -- the signature holds under the registry's public key, and only for what was answered
"$popid" key show --db "$db" >"$dir/key.jwk" 2>/dev/null
cat >"$dir/jwsverify.py" <<'EOF'
import base64, json, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
def b64(s): return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
jwk = json.load(open(sys.argv[1]))
h, p, s = sys.argv[2].split(".")
if sys.argv[3:] == ["tamper"]:
    d = json.loads(b64(p)); d["result"] = "yes" if d["result"] == "no" else "no"
    p = base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64(jwk["x"]), "big"), int.from_bytes(b64(jwk["y"]), "big"), ec.SECP256R1()).public_key()
sig = b64(s)
hdr = json.loads(b64(h))
assert hdr["alg"] == "ES256" and hdr["kid"] == jwk["kid"], hdr
pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")), (h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
print(json.dumps(json.loads(b64(p)), sort_keys=True))
EOF
signed=$(python3 "$dir/jwsverify.py" "$dir/key.jwk" "$jws" 2>"$dir/py.err")
check "the signature verifies: $(tail -1 "$dir/py.err")" test -n "$signed"
eq "signed result" "$(jq -r .result <<<"$signed")" yes
eq "signed txn" "$(jq -r .txn <<<"$signed")" "$first_txn"
eq "signed pid" "$(jq -r .pid <<<"$signed")" "$pid"
eq "signed attributes" "$(jq -c .attributes <<<"$signed")" '["name","dob"]'
check "signed holds no registry data" test "$(jq -r 'has("name") or has("dob") or has("full_name")' <<<"$signed")" = false
check "a changed answer does not verify" bash -c '! python3 "$1" "$2" "$3" tamper >/dev/null 2>&1' _ "$dir/jwsverify.py" "$dir/key.jwk" "$jws"

# -- refusals
verify - "$(bodyj "$pid" "$name" "$dob" exact)"
eq "no token: 401" "$code" 401
req - -X POST -H 'Authorization: Bearer popid_bank_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' --data-binary "$(bodyj "$pid" "$name" "$dob" exact)" "$V"
eq "bad token: 401" "$code" 401
verify reader "$(bodyj "$pid" "$name" "$dob" exact)"
problem 403 role-missing
verify telco "$(jq -cn --arg pid "$pid" '{pid: $pid, sex: "male", match: "exact"}')"
problem 403 grant-missing
req bank -X POST --data-binary "$(bodyj "$pid" "$name" "$dob" exact)" "$B/v1/auth/verify"
problem 403 purpose-missing
req bank -X POST --data-binary "$(bodyj "$pid" "$name" "$dob" exact)" "$B/v1/auth/verify?purpose=marketing"
problem 403 purpose-not-allowed
verify bank "$(jq -cn --arg pid "$pid" '{pid: $pid, name: "x", match: "exact", extra: 1}')"
problem 400 unknown-field
verify bank "$(jq -cn '{pid: "12345", name: "An", match: "exact"}')"
problem 400 pid-malformed
verify bank "$(jq -cn --arg pid "$pid" '{pid: $pid, name: "An", match: "fuzzy"}')"
problem 400 match-invalid
verify bank "$(jq -cn --arg pid "$pid" '{pid: $pid, name: "An"}')"
problem 400 match-invalid
verify bank "$(jq -cn --arg pid "$pid" '{pid: $pid, name: 5, match: "exact"}')"
problem 400 attribute-type
verify bank "$(jq -cn --arg pid "$pid" '{pid: $pid, dob: "1990-02-30", match: "exact"}')"
problem 400 claim-invalid
check "the problem names the attribute" grep -q '^dob: ' <<<"$(jq -r .detail <<<"$body")"
# A malformed claim about an unknown ID is a 400 as well: it does not tell whether the ID exists.
verify bank "$(jq -cn '{pid: "001099000001", dob: "1990-02-30", match: "exact"}')"
problem 400 claim-invalid
verify bank "$(printf '{"pid":"%s","name":"Nguy\xff","match":"exact"}' "$pid")"
problem 400 body-not-utf8
verify bank '{"pid": '
problem 400 body-json
big=$(head -c 5000 /dev/zero | tr '\0' a)
verify bank "{\"pid\":\"$pid\",\"name\":\"$big\",\"match\":\"exact\"}"
problem 413 body-too-large
verify bank "$(jq -cn --arg pid "$pid" '{pid: $pid, otp: "123456", match: "exact"}')"
eq "otp without otp_txn: 400" "$code" 400
# A scoped client: a subject in its scope is verified; one outside it and an unknown ID get the
# same 403 (an unknown ID answered "no" would tell the two apart: that the other ID exists).
verify inscope "$(bodyj "$pid" "$name" "$dob" exact)"
eq "in scope: verified" "$code $(jq -r .result <<<"$body")" "200 yes"
verify outscope "$(bodyj "$pid" "$name" "$dob" exact)"
problem 403 province-out-of-scope
out_body=$(jq -c '{type, title, status, detail}' <<<"$body")
verify outscope "$(bodyj 001099000001 "$name" "$dob" exact)"
problem 403 province-out-of-scope
eq "unknown ID answered as out of scope" "$(jq -c '{type, title, status, detail}' <<<"$body")" "$out_body"
verify inscope "$(bodyj 001099000001 "$name" "$dob" exact)"
problem 403 province-out-of-scope

# -- the citizen sees the verifications in the access log
req admin "$B/v1/persons/$pid/access-log?limit=500"
eq "access log 200" "$code" 200
n_ok=$(jq '[.entries[] | select(.action == "auth.verify" and .actor == "client:bank")] | length' <<<"$body")
check "the bank's verifications are in the access log ($n_ok)" test "$n_ok" -ge 10
eq "fields of the first verification" "$(jq -r '[.entries[] | select(.action == "auth.verify")] | last | .fields | if type == "array" then join(",") else . end' <<<"$body")" "dob,name"
check "a no answer's entry has its code" test "$(jq '[.entries[] | select(.action == "auth.verify" and .rule == "name-mismatch")] | length' <<<"$body")" -ge 1
check "no claimed value in the log" bash -c '! grep -qF "$1" <<<"$2"' _ "$dob" "$body"

# -- batch: CSV with good and malformed lines, answered in order with line numbers
BV="$B/v1/auth/verify-batch?purpose=kyc"
{
  printf 'pid,name,dob\n'
  printf '%s,%s,%s\n' "$pid" "$name" "$dob"
  printf '%s,Hoàng Thị Xuân Mai,%s\n' "$pid" "$dob"
  printf '12345,An,1990\n'
  printf '%s,"unterminated,1990\n' "$pid"
  printf '%s,Nguy\xff,1990\n' "$pid"
  printf '%s,%s\n' "$pid" "$name"
  printf '%s,%s,%s\n' "$dpid" "$dname" "$ddob"
  printf '%s,%s,1990-02-30\n' "$pid" "$name"
  printf '%s,%s,%s\r\n' "$pid" "$nfd" "$dob"
  printf '%s,%s,%s\n' "$pid" "$(head -c 5000 /dev/zero | tr '\0' a)" "$dob"
  printf '001099000001,%s,%s' "$name" "$dob"
} >"$dir/batch.csv"
req bank -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/batch.csv" "$BV"
eq "batch csv 200" "$code" 200
printf '%s\n' "line,pid,result,code" "2,$pid,yes,ok" "3,$pid,no,name-mismatch" "4,,invalid,pid-malformed" \
  "5,,invalid,csv-quoting" "6,,invalid,utf8-invalid" "7,,invalid,csv-columns" "8,$dpid,no,deceased" \
  "9,$pid,invalid,date-day" "10,$pid,yes,ok" "11,,invalid,line-too-long" "12,001099000001,no,pid-unknown" >"$dir/want.csv"
check "batch csv answers line by line: $(diff "$dir/want.csv" "$dir/body" | head -5 | tr '\n' ' ')" diff -q "$dir/want.csv" "$dir/body"
# Many chunks (1,024 lines each, several verified ahead while earlier ones commit): results in
# order, a chunk of malformed lines only (no audit entry) between verified ones.
{
  printf 'pid,name,dob\n'
  for i in $(seq 2500); do if ((i % 7)); then printf '%s,%s,%s\n' "$pid" "$name" "$dob"; else printf '%s,Sai Tên,%s\n' "$pid" "$dob"; fi; done
  for _ in $(seq 1100); do printf '12345,An,1990\n'; done
  for i in $(seq 2500); do if ((i % 5)); then printf '%s,%s,%s\n' "$pid" "$name" "$dob"; else printf '%s,%s,1900\n' "$pid" "$name"; fi; done
} >"$dir/many.csv"
{
  echo "line,pid,result,code"
  for i in $(seq 2500); do if ((i % 7)); then echo "$((i + 1)),$pid,yes,ok"; else echo "$((i + 1)),$pid,no,name-mismatch"; fi; done
  for i in $(seq 1100); do echo "$((i + 2501)),,invalid,pid-malformed"; done
  for i in $(seq 2500); do if ((i % 5)); then echo "$((i + 3601)),$pid,yes,ok"; else echo "$((i + 3601)),$pid,no,dob-mismatch"; fi; done
} >"$dir/many-want.csv"
req bank -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/many.csv" "$BV"
eq "batch of 6,100 lines 200" "$code" 200
check "6,100 lines answered in order: $(diff "$dir/many-want.csv" "$dir/body" | head -3 | tr '\n' ' ')" diff -q "$dir/many-want.csv" "$dir/body"
# Without verify_codes: verification codes hidden, malformed-line reasons kept.
req telco -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/batch.csv" "$BV"
eq "telco batch line 3" "$(sed -n 3p "$dir/body")" "3,$pid,no,"
eq "telco batch line 4" "$(sed -n 4p "$dir/body")" "4,,invalid,pid-malformed"
# A sex cell needs the sex grant, line by line (the telco has none: no oracle on sex); an empty
# cell claims nothing.
printf 'pid,name,dob,sex\n%s,%s,%s,%s\n%s,%s,%s,\n' "$pid" "$name" "$dob" "$sex" "$pid" "$name" "$dob" >"$dir/sex.csv"
req telco -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/sex.csv" "$BV"
eq "telco batch with sex: refused per line" "$(tail -n +2 "$dir/body" | tr '\n' ';')" "2,$pid,invalid,grant-missing;3,$pid,yes,;"
req bank -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/sex.csv" "$BV"
eq "bank batch with sex" "$(tail -n +2 "$dir/body" | tr '\n' ';')" "2,$pid,yes,ok;3,$pid,yes,ok;"
jq -cn --arg pid "$pid" --arg n "$name" --arg d "$dob" --arg s "$sex" '{pid: $pid, name: $n, dob: $d, sex: $s}' >"$dir/sex.jsonl"
req telco -X POST -H 'Content-Type: application/x-ndjson' --data-binary @"$dir/sex.jsonl" "$BV"
eq "telco jsonl with sex" "$(jq -r '[.line, .result, .code, .detail] | join(" ")' "$dir/body")" "1 invalid grant-missing the client is not granted 'sex'"
# JSONL
{
  jq -cn --arg pid "$pid" --arg n "$name" --arg d "$dob" '{pid: $pid, name: $n, dob: $d}'
  echo '{"pid": 5}'
  echo 'not json'
  jq -cn --arg pid "$pid" --arg n "$ascii" --arg d "${dob:0:4}" '{pid: $pid, name: $n, dob: $d}'
  jq -cn --arg pid "$pid" '{pid: $pid, name: "An", extra: 1}'
} >"$dir/batch.jsonl"
req bank -X POST -H 'Content-Type: application/x-ndjson' --data-binary @"$dir/batch.jsonl" "$BV&match=partial"
eq "batch jsonl 200" "$code" 200
eq "jsonl results" "$(jq -r '[.line, .result, .code] | join(" ")' "$dir/body" | tr '\n' ';')" "1 yes ok;2 invalid field-type;3 invalid json-invalid;4 yes ok;5 invalid unknown-field;"
check "jsonl malformed lines have a detail" test "$(jq -r 'select(.result == "invalid") | .detail' "$dir/body" | grep -c .)" -eq 3
# Refusals
req bank -X POST -H 'Content-Type: text/plain' --data-binary @"$dir/batch.csv" "$BV"
problem 415 content-type
req reader -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/batch.csv" "$BV"
problem 403 role-missing
req - -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/batch.csv" "$BV"
eq "batch without token: 401" "$code" 401
req bank -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/batch.csv" "$BV&match=fuzzy"
problem 400 match-invalid
printf 'pid,name,colour\n%s,An,red\n' "$pid" >"$dir/badhdr.csv"
req bank -X POST -H 'Content-Type: text/csv' --data-binary @"$dir/badhdr.csv" "$BV"
eq "bad header answered on line 1" "$(cat "$dir/body")" "1,,invalid,csv-header"
req admin "$B/v1/persons/$pid/access-log?limit=500"
check "batch lines are in the access log" test "$(jq '[.entries[] | select(.action == "auth.verify-batch" and .actor == "client:bank")] | length' <<<"$body")" -ge 5

kill -TERM "$spid"
wait "$spid" 2>/dev/null
finish
