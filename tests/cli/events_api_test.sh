#!/usr/bin/env bash
# Integration test of the API's writes and change feed ($POPID serve, curl): POST /v1/events for
# each kind of event (birth, death, marriage, correction, residence.move, temporary.register,
# card.issue), every refusal status (400 malformed / unknown field / bad UTF-8 / bad key, 413,
# 404, 422 rule, 403 role and province scope) with nothing stored, idempotent replay and key
# reuse, the journal's actor client:<id>, audit entries per subject; GET /v1/changes paging
# (stable, no duplicates), province scope (a scoped client never sees another province's
# changes), field grants (ungranted keys never appear), cursor checks; audit verify at the end.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db"
"$popid" init >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
A=001080000001 B=001182000002 C=079085000003 D=001190000004 E=001095000005 F=001070000006
enrol() { "$popid" event enrol --pid "$1" --name "$2" --dob "$3" --sex "$4" --address.province "$5" \
  --address.commune "$6" --address.line "$7" >/dev/null || bad "enrol $1"; }
enrol $A "Trần Văn Nam" 1980-03-02 male 01 00001 "Số 1 phố Huế"
enrol $B "Lê Thị Mai" 1982 female 01 00001 "Số 2 phố Huế"
enrol $C "Nguyễn Văn Sơn" 1985-01-01 male 79 26734 "Số 3 Lê Lợi"
enrol $D "Phạm Thị Hoa" 1990-02-02 female 01 00004 "Số 4 Hàng Bài"
enrol $E "Đỗ Văn Bình" 1995-05-05 male 01 00005 "Số 5 Tràng Tiền"
enrol $F "Vũ Văn Tùng" 1970-07-07 male 01 00007 "Số 7 Hàng Gai"

# client ID ARGS...: adds a client, its token in $tok_ID.
client() {
  local id=$1; shift
  local t
  t=$("$popid" client add --id "$id" --name "$id" --kind province "$@" 2>/dev/null | jq -r .token)
  [[ "$t" == popid_* ]] || bad "client $id"
  printf -v "tok_${id//-/_}" '%s' "$t"
}
client reg-hn --roles registrar,reader --purposes civil-registration --provinces 01 --rate 10000 \
  --fields pid,name,dob,sex,status,death_date,spouse,permanent_residence,temporary_residence,cards \
  --grants changes
client reg-hcm --roles registrar,reader --purposes civil-registration --provinces 79 --rate 10000 \
  --fields pid,name --grants changes
client read-all --roles reader --purposes statistics --provinces all --rate 10000 \
  --fields pid,status --grants changes
client no-feed --roles reader --purposes statistics --provinces all --rate 10000 --fields pid,name

serve_start --max-body 4096
base=$url

# post TOKEN JSON [KEY]: POST /v1/events; status in $code, body in $body, headers in $hdr.
post() {
  local key=() auth=()
  [ $# -ge 3 ] && key=(-H "Idempotency-Key: $3")
  [ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
  code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' -X POST \
    "$base/v1/events?purpose=civil-registration" "${auth[@]}" \
    -H 'Content-Type: application/json' "${key[@]}" --data-binary "$2")
  body=$(cat "$dir/body")
  hdr=$(tr -d '\r' <"$dir/hdr")
}
# feed TOKEN PURPOSE QUERY: GET /v1/changes
feed() {
  code=$(curl -s -o "$dir/body" -w '%{http_code}' "$base/v1/changes?purpose=$2&$3" \
    -H "Authorization: Bearer $1")
  body=$(cat "$dir/body")
}
problem() {
  check "status $1 (got $code: $body)" test "$code" = "$1"
  check "type $2 (got $(jq -r .type <<<"$body" 2>/dev/null))" \
    test "$(jq -r .type <<<"$body" 2>/dev/null)" = "https://popid.example/problems/$2"
}
journal() { sqlite3 "$POPID_DB" "SELECT count(*) FROM event; SELECT count(*) FROM idempotency;
  SELECT count(*) FROM person; SELECT count(*) FROM residence; SELECT count(*) FROM card;"; }
audits() { sqlite3 "$POPID_DB.audit" "SELECT count(*) FROM audit_entry WHERE action = '$1' AND outcome = '$2'${3:+ AND subject = $3};"; }
today=$(date -u +%F)

# -- each kind of event, by the Hà Nội registrar
post "$tok_reg_hn" '{"type":"card.issue","pid":"'$A'"}' k-card
check "card.issue 201 (got $code: $body)" test "$code" = 201
check "card.issue answer" test "$(jq -r '[.type, .subjects[0], (.seq|type)] | join(",")' <<<"$body")" = "card.issue,$A,number"
card_seq=$(jq -r .seq <<<"$body")
check "journal actor is the client" test "$(sqlite3 "$POPID_DB" "SELECT actor FROM event WHERE seq = $card_seq")" = client:reg-hn
check "history shows the API event" test "$("$popid" person history $A --purpose test 2>/dev/null | jq -r "[.events[] | select(.seq == $card_seq) | .actor][0]")" = client:reg-hn
check "card.issue audited for the subject" test "$(audits event.card.issue ok $A)" = 1
check "audit entry names the fields written" test "$(sqlite3 "$POPID_DB.audit" "SELECT fields FROM audit_entry WHERE action = 'event.card.issue'")" = "cards,pid"

post "$tok_reg_hn" '{"type":"marriage","a":"'$D'","b":"'$E'","date":"2024-02-02"}'
check "marriage 201 (got $code: $body)" test "$code" = 201
check "marriage audited per spouse" test "$(audits event.marriage ok)" = 2

post "$tok_reg_hn" '{"type":"birth","name":"Trần Minh Khoa","dob":"2021-06-01","sex":"male","birth_province":"01","father":"'$A'","mother":"'$B'"}'
check "birth 201 (got $code: $body)" test "$code" = 201
child=$(jq -r .pid <<<"$body")
check "birth allocates a pid" test "${#child}" = 12
check "birth subjects: child and parents" test "$(jq -r '.subjects | length' <<<"$body")" = 3

post "$tok_reg_hn" '{"type":"correction","pid":"'$B'","name":"Lê Thị Mai Anh"}'
check "correction 201 (got $code: $body)" test "$code" = 201
post "$tok_reg_hn" '{"type":"residence.move","pid":"'$E'","address":{"province":"01","commune":"00006","line":"Số 6 Lý Thái Tổ"}}'
check "residence.move 201 (got $code: $body)" test "$code" = 201
post "$tok_reg_hn" '{"type":"temporary.register","pid":"'$A'","address":{"province":"01","commune":"00009","line":"Phòng 9"},"until":"'$(date -u -d '+1 year' +%F)'"}'
check "temporary.register 201 (got $code: $body)" test "$code" = 201
post "$tok_reg_hn" '{"type":"death","pid":"'$F'","date":"'$today'"}'
check "death 201 (got $code: $body)" test "$code" = 201

# -- refusals: status, rule id as type, nothing stored
before=$(journal)
post "$tok_reg_hn" '{"type":"card.issue","pid":"'$C'"}'
problem 403 province-out-of-scope
check "out-of-scope audited denied" test "$(audits event.card.issue denied $C)" = 1
detail=$(jq -r .detail <<<"$body")
check "403 does not name the province" test "${detail//79/}" = "$detail"
post "$tok_reg_hn" '{"type":"residence.move","pid":"'$D'","address":{"province":"79","commune":"26734","line":"Số 7"}}'
problem 403 province-out-of-scope
post "$tok_reg_hcm" '{"type":"marriage","a":"'$A'","b":"'$C'"}'
check "marriage: either party's province is enough (got $code)" test "$code" = 422 # A is married
post "$tok_read_all" '{"type":"card.issue","pid":"'$C'"}'
problem 403 role-missing
post "$tok_reg_hn" '{"type":"death","pid":"001090099999"}'
problem 404 person-not-found
post "$tok_reg_hn" '{"type":"marriage","a":"'$A'","b":"'$D'"}'
problem 422 marriage-already-married
check "422 audited denied with the rule" test "$(sqlite3 "$POPID_DB.audit" "SELECT count(*) FROM audit_entry WHERE rule = 'marriage-already-married' AND outcome = 'denied'")" = 2
post "$tok_reg_hn" '{"type":"death","pid":"'$A'","date":"2099-01-01"}'
problem 422 date-future
post "$tok_reg_hn" '{"type":"card.issue","pid":'
problem 400 body-json
post "$tok_reg_hn" '[1,2]'
problem 400 body-not-object
post "$tok_reg_hn" '{"type":"card.issue","pid":"'$A'","colour":"blue"}'
problem 400 field-unknown
post "$tok_reg_hn" '{"type":"nosuch","pid":"'$A'"}'
problem 400 event-unknown-type
post "$tok_reg_hn" '{"type":"card.issue","pid":"00108"}'
problem 400 pid-length
post "$tok_reg_hn" "$(printf '{"type":"correction","pid":"%s","name":"L\xc3\x28"}' $A)"
problem 400 body-not-utf8
post "$tok_reg_hn" "{\"type\":\"correction\",\"pid\":\"$A\",\"name\":\"$(head -c 5000 /dev/zero | tr '\0' a)\"}"
problem 413 body-too-large
post "$tok_reg_hn" '{"type":"card.lost","pid":"'$A'"}' 'bad key!'
problem 400 idempotency-key-malformed
post "$tok_reg_hn" '{"type":"card.lost","pid":"'$A'"}' "$(head -c 65 /dev/zero | tr '\0' k)"
problem 400 idempotency-key-malformed
post "" '{"type":"card.lost","pid":"'$A'"}'
problem 401 token-missing
check "refused events stored nothing" test "$(journal)" = "$before"

# -- idempotency: replay returns the kept answer, once applied; another body is refused
post "$tok_reg_hn" '{"type":"card.issue","pid":"'$A'"}' k-card
check "replay 201 (got $code)" test "$code" = 201
check "replay says so" test "$(header idempotent-replayed)" = true
check "replay has the first seq" test "$(jq -r .seq <<<"$body")" = "$card_seq"
check "replay stored nothing" test "$(journal)" = "$before"
check "replay audited again" test "$(audits event.card.issue ok $A)" = 2
post "$tok_reg_hn" '{"type":"card.lost","pid":"'$A'"}' k-card
problem 422 idempotency-key-reused
post "$tok_reg_hcm" '{"type":"card.issue","pid":"'$C'"}' k-card
check "keys are per client (got $code: $body)" test "$code" = 201
check "per-client key: not a replay" test -z "$(header idempotent-replayed)"
# concurrent requests with one key apply once
racers=()
for i in 1 2 3 4 5 6; do
  curl -s -o "$dir/race$i" -X POST "$base/v1/events?purpose=civil-registration" \
    -H "Authorization: Bearer $tok_reg_hn" -H 'Idempotency-Key: k-race' \
    --data-binary '{"type":"card.renew","pid":"'$A'","reason":"worn"}' &
  racers+=($!)
done
wait "${racers[@]}"
check "concurrent same key: one answer for all" test "$(cat "$dir"/race? | jq -r .seq | sort -u | wc -l)" = 1
check "concurrent same key: one event" test "$(sqlite3 "$POPID_DB" "SELECT count(*) FROM event WHERE type = 'card.renew'")" = 1
# an expired key (24 h) applies again
sqlite3 "$POPID_DB" "UPDATE idempotency SET created_ms = created_ms - 86400001 WHERE key = 'k-race'"
post "$tok_reg_hn" '{"type":"card.renew","pid":"'$A'","reason":"worn"}' k-race
check "expired key applies anew (got $code)" test "$code" = 201
check "expired key: not a replay" test -z "$(header idempotent-replayed)"

# -- change feed
feed "$tok_reg_hn" civil-registration "limit=100"
check "feed 200 (got $code: $body)" test "$code" = 200
all_hn=$(jq -c '[.items[].seq]' <<<"$body")
check "Hà Nội feed has the Hà Nội events" test "$(jq -r '[.items[].type] | index("birth") != null and index("death") != null and index("marriage") != null' <<<"$body")" = true
check "Hà Nội feed never shows Hồ Chí Minh City's subject" test "$(jq -r --arg c $C '[.items[].subjects[] | select(. == $c)] | length' <<<"$body")" = 0
check "correction shows the new name" test "$(jq -r --arg b $B '[.items[] | select(.type == "correction") | .changes[] | select(.pid == $b) | .full_name][0]' <<<"$body")" = "Lê Thị Mai Anh"
check "no ungranted key (ethnicity, household, father)" test "$(jq -r '[.. | objects | keys[] | select(. == "ethnicity" or . == "household" or . == "relation" or . == "father" or . == "mother")] | length' <<<"$body")" = 0
# paging: limit 2, until more is false; the same items, in order, no duplicates
cur="" pages=0 seqs="[]"
while :; do
  feed "$tok_reg_hn" civil-registration "limit=2${cur:+&after=$cur}"
  [ "$code" = 200 ] || { bad "page $pages: $code $body"; break; }
  seqs=$(jq -c --argjson s "$seqs" '$s + [.items[].seq]' <<<"$body")
  cur=$(jq -r .next <<<"$body")
  pages=$((pages + 1))
  [ "$(jq -r .more <<<"$body")" = true ] && [ $pages -lt 50 ] || break
done
check "paging gives the same items ($seqs vs $all_hn)" test "$seqs" = "$all_hn"
check "several pages" test $pages -gt 2
check "seqs increase" test "$(jq -r '. == (sort | unique)' <<<"$seqs")" = true
feed "$tok_reg_hn" civil-registration "after=$cur"
check "after the last page: empty (got $body)" test "$(jq -r '.items | length' <<<"$body")" = 0
feed "$tok_reg_hcm" civil-registration "limit=100"
check "HCMC feed: only its subject" test "$(jq -r --arg c $C '[.items[] | select(all(.subjects[]; . != $c))] | length' <<<"$body")" = 0
check "HCMC feed has its events" test "$(jq -r '.items | length' <<<"$body")" -ge 2
feed "$tok_read_all" statistics "limit=100"
check "nation-wide reader sees everything" test "$(jq -r '.items | length' <<<"$body")" -gt "$(jq -r length <<<"$all_hn")"
check "reader granted pid,status: no name anywhere" test "$(jq -r '[.. | objects | keys[] | select(. == "full_name" or . == "dob" or . == "cards" or . == "residence")] | length' <<<"$body")" = 0
check "reader granted status sees the death" test "$(jq -r --arg f $F '[.items[] | select(.type == "death") | .changes[] | select(.pid == $f) | .status][0]' <<<"$body")" = deceased
check "feed audited per subject" test "$(sqlite3 "$POPID_DB.audit" "SELECT count(DISTINCT subject) FROM audit_entry WHERE action = 'changes.read' AND actor = 'client:read-all'")" -ge 5
cur_hn=$(jq -r .next <<<"$(curl -s "$base/v1/changes?purpose=civil-registration&limit=1" -H "Authorization: Bearer $tok_reg_hn")")
feed "$tok_read_all" statistics "after=$cur_hn"
problem 400 cursor-malformed
feed "$tok_reg_hn" civil-registration "after=${cur_hn%.*}.0000000000000000"
problem 400 cursor-malformed
feed "$tok_reg_hn" civil-registration "after=12"
problem 400 cursor-malformed
feed "$tok_reg_hn" civil-registration "limit=0"
problem 400 limit-malformed
feed "$tok_reg_hn" civil-registration "limit=101"
problem 400 limit-malformed
feed "$tok_no_feed" statistics ""
problem 403 grant-missing
feed "$tok_reg_hn" statistics ""
problem 403 purpose-not-allowed

# -- the whole log still holds, and the store
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
"$popid" audit verify >/dev/null 2>&1; check "audit verify" test $? -eq 0
"$popid" check >/dev/null 2>&1; check "integrity check" test $? -eq 0

finish
