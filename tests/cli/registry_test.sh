#!/usr/bin/env bash
# CLI integration test: drives the real popid binary ($POPID) through a registry's life: init,
# the `pid parse` contract, life events and their refusals (exit codes and rule ids), reads,
# history on dates, the signed confirmation of residence, event files with bad lines, and the
# guarantee that a refused command stores nothing.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db" POPID_ACTOR="test:cli"
fingerprint() { sqlite3 "$POPID_DB" "SELECT count(*) FROM person; SELECT count(*) FROM event;
  SELECT count(*) FROM residence; SELECT count(*) FROM card; SELECT max(version) FROM person;"; }

# -- usage and the pid contract (no registry needed)
expect 2 nosuchcommand
expect 0 help
expect 0 person search --help
check "person search --help shows its options" grep -q -- '--name TEXT' <<<"$out"
expect 0 pid parse 001090012345
check "pid parse gives the contract fields" \
  test "$(jq -c '[.pid, .prefix, .province, .country_code, .sex, .birth_year]' <<<"$out")" \
  = '["001090012345","001","Hà Nội",null,"male",1990]'
expect 0 pid parse 079303123456
check "female born 2003" test "$(jq -r '.sex + " " + (.birth_year|tostring)' <<<"$out")" = "female 2003"
expect 0 pid parse 201095123456
check "born abroad: country code, no province" \
  test "$(jq -c '[.province, .country_code]' <<<"$out")" = '[null,201]'
for badid in 00109001234 0010900123456 00109001234x 003090012345 100090012345 296090012345 ""; do
  expect 2 pid parse "$badid"
  check "one-line reason for '$badid'" test "$(wc -l <<<"$err")" -eq 1
done
expect 0 pid check 001090012345 --dob 1990-04 --sex male
expect 4 pid check 001090012345 --dob 1991 --sex male
expect 0 name key "ĐẶNG Thị  Ngọc"
check "name key folds đ and diacritics" test "$out" = "dang thi ngoc"

# -- a registry
expect 3 person show 001090012345
check "missing registry says how to create one" has_rule store-missing
expect 0 init --authority "Test Registry"
check "key file is private" test "$(stat -c %a "$POPID_DB.key")" = 600
expect 0 init
check "init is idempotent and keeps the key" test -s "$POPID_DB.key"

addr=(--address.province 01 --address.commune 00004 --address.line "12 Phố Huế")
expect 0 event enrol --pid 001080000001 --name "Trần Văn Nam" --dob 1980-03-02 --sex male \
  --ethnicity Kinh "${addr[@]}" --date 2020-01-01
hh=$(jq -r .household <<<"$out")
expect 0 event enrol --pid 001182000002 --name "Lê Thị Mai" --dob 1982 --sex female \
  --ethnicity Kinh --household "$hh" --relation spouse --date 2020-01-01
expect 0 event marriage --a 001080000001 --b 001182000002 --date 2020-05-01
expect 0 event birth --name "Trần Minh Khoa" --dob 2021-06-01 --sex male --birth_province 01 \
  --father 001080000001 --mother 001182000002 --date 2021-06-10
child=$(jq -r .pid <<<"$out")
check "birth allocates a valid ID for Hà Nội, 2021, male" \
  bash -c "[[ '$child' =~ ^001221[0-9]{6}$ ]]"
expect 0 person show "$child"
check "child lives in the parents' household" \
  test "$(jq -r '.residence.permanent.household' <<<"$out")" = "$hh"
check "relation to the head is child" \
  test "$(jq -r '.residence.permanent.relation' <<<"$out")" = child

# -- refusals: exit 4 (rule), 3 (not found), 2 (malformed); nothing stored
before=$(fingerprint)
expect 4 event marriage --a "$child" --b 001182000002 --date 2022-01-01
check "marriage refused names a rule" bash -c "[[ '$err' == *'[marriage-'* ]]"
expect 4 event enrol --pid 001090000003 --name "Phạm Văn A" --dob 1991-01-01 --sex male
check "ID/birth-year mismatch" has_rule pid-inconsistent
expect 4 event enrol --pid 001080000001 --name "Trần Văn Nam" --dob 1980-03-02 --sex male
check "duplicate ID" has_rule person-exists
expect 3 event death --pid 001090099999
expect 2 event death --pid 00109
expect 2 event enrol --pid 001080000009 --name "Trần 9" --dob 1980 --sex male
check "digit in name" bash -c "[[ '$err' == *'name'* ]]"
expect 2 event death --pid 001080000001 --colour blue
check "unknown field" has_rule field-unknown
expect 2 event nosuchtype --pid 001080000001
expect 4 event death --pid 001080000001 --date 2030-01-01
check "future date" has_rule date-future
expect 4 event death --pid 001080000001 --date 2024-01-01
check "head with members needs new_head" has_rule household-head-required
expect 4 event birth --name "Lê Thị Hoa" --dob 2026-01-05 --sex female --birth_province 02 \
  --mother 001182000002
check "legacy province after the merger" has_rule region-province-merged
check "refused events stored nothing" test "$(fingerprint)" = "$before"

# -- history and dates
expect 0 event death --pid 001080000001 --date 2024-01-01 --new_head 001182000002
expect 0 household show "$hh"
check "new head after death" test "$(jq -r .head <<<"$out")" = 001182000002
check "two members remain" test "$(jq '.members|length' <<<"$out")" = 2
expect 0 household show "$hh" --on 2023-12-31
check "before the death: three members, old head" \
  test "$(jq -c '[(.members|length), .head]' <<<"$out")" = '[3,"001080000001"]'
expect 0 person history 001080000001
check "journal in order" test "$(jq -c '[.events[].type]' <<<"$out")" \
  = '["enrol","marriage","birth","death"]'
check "journal records actor and legal basis" \
  test "$(jq -r '.events[3].actor + "|" + .events[3].legal_basis' <<<"$out")" \
  = "test:cli|Law on Civil Status 2014 art. 32-34: death registration"
expect 0 person show 001182000002
check "widow's spouse cleared" test "$(jq -r .spouse <<<"$out")" = null

# -- event files: one JSON per line, a malformed line is named
printf '%s\n' '{"type":"card.issue","pid":"001182000002","date":"2024-02-01"}' \
  '{"type":"card.issue", "pid": ' >"$dir/events.jsonl"
expect 2 event apply "$dir/events.jsonl"
check "malformed line named with its number" bash -c "[[ '$err' == *'events.jsonl:2:'* ]]"
expect 0 person show 001182000002
check "card issued at 41 never expires? no: expires at 60" \
  test "$(jq -r '.cards[0].expires' <<<"$out")" = 2042-01-01
printf '\xff\xfe{"type":"death"}\n' >"$dir/bad-utf8.jsonl"
expect 2 event apply "$dir/bad-utf8.jsonl"

# -- signed confirmation of residence
expect 0 residence confirm 001182000002
echo "$out" >"$dir/ct07.json"
expect 0 residence verify "$dir/ct07.json"
check "verifies" test "$(jq .valid <<<"$out")" = true
"$popid" key show >"$dir/key.jwk"
expect 0 residence verify "$dir/ct07.json" --jwk "$dir/key.jwk"
jq -r .jws "$dir/ct07.json" >"$dir/ct07.jws"
expect 0 residence verify "$dir/ct07.jws" --jwk "$dir/key.jwk"
jq '.document.subject.full_name = "Lê Thị Mây"' "$dir/ct07.json" >"$dir/forged.json"
expect 5 residence verify "$dir/forged.json"
check "alteration detected" has_rule document-altered
echo '{"jws": "e30.e30.AAAA"}' >"$dir/junk.json"
expect 2 residence verify "$dir/junk.json"
expect 0 check

finish
