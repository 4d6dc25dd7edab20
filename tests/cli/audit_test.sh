#!/usr/bin/env bash
# CLI integration test of the audit log: commands that read or write personal data append
# entries (actor, subject, action, fields, purpose, outcome); `popid audit verify` holds on an
# untouched log and names the first bad seq (exit 5) once the database is edited behind popid's
# back; an export verifies with only the public key, and fails once edited; a read whose entry
# cannot be written prints nothing; `popid audit log` shows a person's access log.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db" POPID_ACTOR="test:audit-cli"
unset POPID_PURPOSE POPID_AUDIT_KEY
q() { sqlite3 "$POPID_DB.audit" "$1"; } # the audit log has a database of its own
err_has() { [[ "$err" == *"$1"* ]]; }

# -- a registry with a few people; init makes the audit key
expect 0 init --authority "Audit Test Registry"
check "init names the audit key" test "$(jq -r .audit_key <<<"$out")" = "$POPID_DB.audit.key"
check "audit key file is private" test "$(stat -c %a "$POPID_DB.audit.key")" = 600
expect 0 audit key
pk=$out
check "public key is 43 chars of base64url" bash -c "[[ '$pk' =~ ^[A-Za-z0-9_-]{43}$ ]]"

addr=(--address.province 01 --address.commune 00004 --address.line "12 Phố Huế")
expect 0 event enrol --pid 001080000001 --name "Trần Văn Nam" --dob 1980-03-02 --sex male \
  --ethnicity Kinh "${addr[@]}" --date 2020-01-01
hh=$(jq -r .household <<<"$out")
expect 0 event enrol --pid 001182000002 --name "Lê Thị Mai" --dob 1982 --sex female \
  --ethnicity Kinh --household "$hh" --relation spouse --date 2020-01-01
expect 0 event marriage --a 001080000001 --b 001182000002 --date 2020-05-01
check "an event is recorded once per person it names" \
  test "$(q "SELECT group_concat(subject) FROM (SELECT subject FROM audit_entry
             WHERE action = 'event.marriage' ORDER BY subject)")" = "1080000001,1182000002"
check "the written fields are recorded" \
  test "$(q "SELECT fields FROM audit_entry WHERE action = 'event.marriage' LIMIT 1")" = "a,b"

# -- reads: each one an entry, before the data is printed
n0=$(q "SELECT count(*) FROM audit_entry")
expect 0 person show 001080000001 --purpose "kiểm tra hồ sơ"
check "person show is recorded with actor, purpose, fields" \
  test "$(q "SELECT actor || '|' || subject || '|' || purpose || '|' || outcome FROM audit_entry
             WHERE action = 'person.read' ORDER BY seq DESC LIMIT 1")" \
  = "test:audit-cli|1080000001|kiểm tra hồ sơ|ok"
check "fields released are the keys shown, sorted" \
  bash -c "[[ '$(q "SELECT fields FROM audit_entry WHERE action = 'person.read'")' == birth_province,*full_name*residence* ]]"
POPID_PURPOSE="from the environment" expect 0 person history 001182000002 --actor "operator:clerk@office"
check "history: actor from --actor, purpose from POPID_PURPOSE" \
  test "$(q "SELECT actor || '|' || purpose FROM audit_entry WHERE action = 'person.history'")" \
  = "operator:clerk@office|from the environment"
expect 0 household show "$hh"
check "a household read is recorded for each member" \
  test "$(q "SELECT count(*) FROM audit_entry WHERE action = 'household.read'")" = 2
expect 0 residence show 001080000001
expect 0 residence confirm 001080000001
check "residence show and confirm are recorded" \
  test "$(q "SELECT count(*) FROM audit_entry WHERE action IN ('residence.read', 'residence.confirm')")" = 2
expect 3 person show 001090000009
check "a read of nobody is recorded as not-found" \
  test "$(q "SELECT outcome || ' ' || rule FROM audit_entry ORDER BY seq DESC LIMIT 1")" \
  = "not-found person-not-found"
expect 4 event marriage --a 001080000001 --b 001182000002 --date 2021-01-01
check "a refused event is recorded as denied with its rule" \
  bash -c "[[ '$(q "SELECT outcome || ' ' || rule FROM audit_entry ORDER BY seq DESC LIMIT 1")' == 'denied marriage-'* ]]"
check "every command added entries" test "$(q "SELECT count(*) FROM audit_entry")" -gt "$((n0 + 6))"

# -- the citizen's access log
expect 0 audit log 001080000001 --limit 3
check "access log: newest first, 3 entries and a cursor" \
  test "$(jq -c '[(.entries | length), .entries[0].seq > .entries[1].seq, (.next != null)]' <<<"$out")" = '[3,true,true]'
expect 0 audit log 001080000001 --limit 500
check "access log lists person.read with its purpose" \
  test "$(jq -r '[.entries[] | select(.action == "person.read")][0].purpose' <<<"$out")" = "kiểm tra hồ sơ"
check "reading the access log is itself recorded" \
  test "$(q "SELECT count(*) FROM audit_entry WHERE action = 'accesslog.read'")" = 2
expect 2 audit log 12345
expect 2 audit log 001080000001 --limit 0

# -- verify
expect 0 audit verify
check "verify: valid, every entry, sealed" \
  test "$(jq -c '[.valid, .entries == .last_seq, .unsealed]' <<<"$out")" = '[true,true,0]'
total=$(jq .entries <<<"$out")
expect 0 audit verify --public-key "$pk"
check "verify against the key given, not the recorded one" test "$(jq .valid <<<"$out")" = true
other=$(printf 'A%.0s' $(seq 43))
expect 5 audit verify --public-key "$other"
check "a registry recording another key is named" test "$(jq -r .rule <<<"$out")" = audit-key-mismatch

# -- export, and verification with only the public key
expect 0 audit export --out "$dir/export.jsonl"
check "export summary" test "$(jq .entries <<<"$out")" -eq "$((total + 1))"
check "export header names the key" \
  test "$(head -1 "$dir/export.jsonl" | jq -r .public_key)" = "$pk"
expect 0 audit verify --file "$dir/export.jsonl" --public-key "$pk"
check "export verifies" test "$(jq -c '[.valid, .entries]' <<<"$out")" = "[true,$((total + 1))]"
"$popid" audit export --from 5 >"$dir/part.jsonl" 2>/dev/null
expect 0 audit verify --file "$dir/part.jsonl" --public-key "$pk"
check "a partial export verifies" test "$(jq .entries <<<"$out")" -eq "$((total + 2 - 4))"
sed 's/"actor":"test:audit-cli","subject":"001182000002"/"actor":"test:audit-cl1","subject":"001182000002"/' \
  "$dir/export.jsonl" >"$dir/forged.jsonl"
check "the forgery changed a line" bash -c "! cmp -s '$dir/export.jsonl' '$dir/forged.jsonl'"
expect 5 audit verify --file "$dir/forged.jsonl" --public-key "$pk"
forged_seq=$(grep -n 'test:audit-cl1' "$dir/forged.jsonl" | head -1 | cut -d: -f1)
forged_seq=$(sed -n "${forged_seq}p" "$dir/forged.jsonl" | jq .seq)
check "a forged export names the seq" test "$(jq .bad_seq <<<"$out")" = "$forged_seq"
other=$(printf 'A%.0s' $(seq 43))
expect 5 audit verify --file "$dir/export.jsonl" --public-key "$other"
expect 2 audit verify --file "$dir/export.jsonl"
printf '{"type":"header"}\n' >"$dir/junk.jsonl"
expect 2 audit verify --file "$dir/junk.jsonl" --public-key "$pk"

# -- an independent verifier (Python, docs/AUDIT.md) agrees, when its library is there
src=${POPID_SOURCE_DIR:-$(dirname "$0")/../..}
if python3 -c 'import cryptography' 2>/dev/null; then
  python3 "$src/scripts/audit-verify.py" "$dir/export.jsonl" "$pk" >/dev/null
  check "the Python verifier accepts the export" test $? -eq 0
  python3 "$src/scripts/audit-verify.py" "$dir/forged.jsonl" "$pk" >"$dir/py.out"
  check "the Python verifier refuses the forgery" test $? -eq 5
  check "... at the same seq" grep -q "^bad seq $forged_seq:" "$dir/py.out"
else
  echo "audit_test: python3 cryptography missing, independent verifier skipped" >&2
fi

# -- tampering with the database is detected, at the right seq
cp "$POPID_DB.audit" "$dir/pristine.db"
q "UPDATE audit_entry SET purpose = 'nothing to see' WHERE seq = 3"
expect 5 audit verify
check "verify names seq 3" test "$(jq -c '[.valid, .bad_seq]' <<<"$out")" = '[false,3]'
check "stderr names seq 3" err_has "entry 3 "
cp "$dir/pristine.db" "$POPID_DB.audit"
q "DELETE FROM audit_entry WHERE seq = 4"
expect 5 audit verify
check "a deleted entry is named" test "$(jq -r '"\(.bad_seq) \(.rule)"' <<<"$out")" = "4 audit-entry-missing"
cp "$dir/pristine.db" "$POPID_DB.audit"
q "UPDATE audit_entry SET seq = -5 WHERE seq = 5; UPDATE audit_entry SET seq = 5 WHERE seq = 6;
   UPDATE audit_entry SET seq = 6 WHERE seq = -5"
expect 5 audit verify
check "swapped entries are named" test "$(jq .bad_seq <<<"$out")" = 5
cp "$dir/pristine.db" "$POPID_DB.audit"
last=$(q "SELECT max(seq) FROM audit_entry")
q "DELETE FROM audit_entry WHERE seq >= $((last - 1))"
expect 5 audit verify
check "a cut tail is named" test "$(jq -r '.rule' <<<"$out")" = audit-truncated
cp "$dir/pristine.db" "$POPID_DB.audit"
q "UPDATE audit_checkpoint SET sig = randomblob(64) WHERE seq = 2"
expect 5 audit verify
check "a forged checkpoint is named" test "$(jq -r '"\(.bad_seq) \(.rule)"' <<<"$out")" = "2 audit-checkpoint-signature"
cp "$dir/pristine.db" "$POPID_DB.audit"
expect 0 audit verify

# -- a read whose audit entry cannot be written shows nothing
q "CREATE TRIGGER block_audit BEFORE INSERT ON audit_entry BEGIN SELECT RAISE(ABORT, 'blocked'); END;"
expect 1 person show 001080000001
check "no data printed when the audit fails" test -z "$out"
check "the failure says why" err_has "could not be audited"
q "DROP TRIGGER block_audit"
mv "$POPID_DB.audit.key" "$dir/key.away"
expect 1 person show 001080000001
check "no data printed without the audit key" test -z "$out"
check "the missing key is named" err_has "[audit-key-missing]"
mv "$dir/key.away" "$POPID_DB.audit.key"
expect 0 person show 001080000001
expect 0 audit verify

finish
