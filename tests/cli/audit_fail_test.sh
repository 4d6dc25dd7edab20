#!/usr/bin/env bash
# Integration test of the durability rule at the HTTP level (DESIGN.md: an access to personal
# data is answered only after its audit record is durable): `popid serve` ($POPID) on a demo
# registry while another process holds the write lock of the audit database (<db>.audit), as a
# stuck `sqlite3` shell or backup would. The audit writer's transaction then fails once SQLite's
# busy timeout (10 s) runs out, and every request in that batch must get 503 audit-unavailable
# with no person data: a person read that would have been 200, and a read of a personal ID that
# does not exist (its 404 is itself an audited answer). Nothing of the failed batches is stored;
# once the lock is released the same read answers 200 and is logged, and `popid audit verify`
# passes. No test-only hook: the failure is a real one of the store.
. "$(dirname "$0")/lib.sh"

db="$dir/r.db"
"$popid" init --db "$db" >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
"$popid" demo --db "$db" >/dev/null 2>&1 || { echo "FAIL: demo" >&2; exit 1; }
"$popid" client add --db "$db" --id reader --name reader --kind ministry --roles reader \
  --fields pid,name,dob --purposes kyc --rate 10000 --burst 10000 2>/dev/null |
  jq -r .token >"$dir/tok"
grep -q '^popid_' "$dir/tok" || { echo "FAIL: client add" >&2; exit 1; }
tok=$(cat "$dir/tok")
pid=$(sqlite3 "$db" "SELECT printf('%012d', pid) FROM person ORDER BY pid LIMIT 1")
name=$(sqlite3 "$db" "SELECT full_name FROM person WHERE pid = $((10#$pid))")
[ -n "$name" ] || { echo "FAIL: no person in the demo registry" >&2; exit 1; }
# A well-formed personal ID that is not in the registry: the same province/century/sex code.
missing=$(sqlite3 "$db" "SELECT printf('%012d', max(pid) + 1) FROM person WHERE pid / 1000000 = $((10#$pid)) / 1000000")

serve_start --db "$db"
B=$url
get() { # OUT PID: status code into OUT.code, body into OUT
  curl -s -o "$dir/$1" -w '%{http_code}' -H "Authorization: Bearer $tok" \
    "$B/v1/persons/$2?purpose=kyc" >"$dir/$1.code"
}
entries() { sqlite3 "$db.audit" 'SELECT count(*) FROM audit_entry'; }

get ok0 "$pid"
eq "read before the lock" "$(cat "$dir/ok0.code")" 200
eq "the read carries the name" "$(jq -r .full_name "$dir/ok0")" "$name"
get nf0 "$missing"
eq "404 before the lock" "$(cat "$dir/nf0.code")" 404
before=$(entries)

# Another process takes the audit database's write lock and keeps it.
mkfifo "$dir/lockin"
sqlite3 "$db.audit" <"$dir/lockin" >/dev/null 2>&1 &
lpid=$!
pids+=("$lpid")
exec 7>"$dir/lockin"
echo 'BEGIN IMMEDIATE;' >&7
locked=no
for _ in $(seq 200); do
  if ! sqlite3 -cmd '.timeout 0' "$db.audit" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; then
    locked=yes
    break
  fi
  sleep 0.05
done
eq "the audit database is locked by another process" "$locked" yes

get fail1 "$pid" &
c1=$!
get fail2 "$missing" &
c2=$!
wait "$c1" "$c2"
for f in fail1 fail2; do
  eq "$f: status while the audit log cannot be written" "$(cat "$dir/$f.code")" 503
  eq "$f: problem type" "$(jq -r .type "$dir/$f")" "https://popid.example/problems/audit-unavailable"
  eq "$f: problem keys only" "$(jq -c keys "$dir/$f")" '["detail","instance","status","title","type"]'
  if grep -qF "$name" "$dir/$f" || grep -qF "$pid" "$dir/$f" || grep -qF "$missing" "$dir/$f"; then
    bad "$f: the 503 carries person data: $(cat "$dir/$f")"
  else ok; fi
done
grep -q 'audit write failed' "$dir/s.err" && ok || bad "the server logged no audit failure"

# Release the lock: the same read is answered and logged again.
echo 'ROLLBACK;' >&7
exec 7>&-
wait "$lpid" 2>/dev/null
eq "nothing of the failed batches is stored" "$(entries)" "$before"
get ok1 "$pid"
eq "read after the lock" "$(cat "$dir/ok1.code")" 200
eq "the read after carries the name" "$(jq -r .full_name "$dir/ok1")" "$name"
eq "its entry is stored" "$(entries)" $((before + 1))

kill -TERM "$spid"
wait "$spid"
eq "serve stops cleanly" "$?" 0
if "$popid" audit verify --db "$db" >"$dir/verify" 2>&1; then ok; else bad "audit verify: $(cat "$dir/verify")"; fi

finish
