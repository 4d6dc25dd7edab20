#!/usr/bin/env bash
# CLI integration test of `popid eid` (docs/EID.md) on a demo registry: request with and without
# --show-code (the code printed only with the flag), the refusals (no channel, bad phone, a dead
# person, level 2 without a card, a duplicate) with their exit codes and rule ids, activation
# (a wrong code, then the right one, then its reuse), password policy and login (secrets on
# stdin, never in argv), TOTP enrolment output, lock/unlock with a code, suspend/reinstate, show,
# the audit log naming every step, no secret in the database files, and the eID key file's mode.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db" POPID_ACTOR="test:cli"
# expect CODE [STDIN] -- CMD...: runs popid with STDIN, checks the exit code; $out and $err.
expect() {
  local want=$1 input=$2; shift 3
  out=$(printf '%b' "$input" | "$popid" "$@" 2>"$dir/stderr"); local rc=$?
  err=$(cat "$dir/stderr")
  if [ "$rc" -eq "$want" ]; then ok; else bad "popid $* exited $rc, expected $want: $err"; fi
}

"$popid" init --authority "Test" >/dev/null 2>&1 || { echo "init failed" >&2; exit 1; }
"$popid" demo --people 60 --seed 3 >/dev/null 2>&1 || { echo "demo failed" >&2; exit 1; }
"$popid" export --format jsonl --out "$dir/all.jsonl" >/dev/null 2>&1
adult=$(living_adults | head -1)
other=$(living_adults | sed -n 2p)
dead=$(jq -r 'select(.status == "deceased") | .pid' "$dir/all.jsonl" | head -1)
nocard=$(jq -r 'select(.status == "living" and .card_issued == null and .dob < "2012")
                | .pid' "$dir/all.jsonl" | head -1)
check "the demo has the people this test needs" test -n "$adult" -a -n "$other" -a -n "$dead"

expect 0 "" -- eid help
expect 2 "" -- eid request "$adult"
check "no channel: rule named" has_rule eid-channel
expect 2 "" -- eid request "$adult" --phone 0901234567
check "a phone not in E.164 is refused" has_rule eid-phone
expect 4 "" -- eid request "$dead" --phone +84901234567
check "a dead person gets no account" has_rule eid-person-deceased
if [ -n "$nocard" ]; then
  expect 4 "" -- eid request "$nocard" --phone +84901234567 --level 2
  check "level 2 needs a valid card" has_rule eid-no-valid-card
fi
expect 3 "" -- eid show "$adult"

# without --show-code the code is not printed
expect 0 "" -- eid request "$other" --email an@example.vn --compact
check "no code without --show-code" test "$(jq -r '.code // "none"' <<<"$out")" = none

expect 0 "" -- eid request "$adult" --phone +84901234567 --show-code --compact
code=$(jq -r .code <<<"$out")
check "an 8-digit code with --show-code" grep -Eq '^[0-9]{8}$' <<<"$code"
check "the operator is warned" grep -q "offline" <<<"$err"
wrong=$(printf '%08d' $(( (10#$code + 1) % 100000000 )))
expect 5 "$wrong\n" -- eid activate "$adult"
check "a wrong code is refused" has_rule eid-code-wrong
expect 0 "$code\n" -- eid activate "$adult"
expect 4 "$code\n" -- eid activate "$adult"
check "a used code is refused" has_rule eid-not-pending
expect 4 "" -- eid request "$adult" --phone +84901234567
check "a duplicate is refused" has_rule eid-duplicate

expect 2 "short\n" -- eid password "$adult"
check "password policy" has_rule eid-password-short
expect 0 "Hoa sen 2026 xanh\n" -- eid password "$adult"
expect 5 "Hoa sen 2026 do\n" -- eid login "$adult"
check "a wrong password" has_rule eid-wrong-password
expect 0 "Hoa sen 2026 xanh\n" -- eid login "$adult" --compact
check "login says yes" test "$(jq -r .result <<<"$out")" = yes

expect 0 "Hoa sen 2026 xanh\n" -- eid totp-enrol "$adult" --compact
check "an otpauth URI" grep -q '^otpauth://totp/popid:' <<<"$(jq -r .uri <<<"$out")"
expect 4 "" -- eid challenge "$adult"
check "no device yet" has_rule eid-no-device

expect 0 "Hoa sen 2026 xanh\n" -- eid lock "$adult"
expect 4 "Hoa sen 2026 xanh\n" -- eid login "$adult"
check "a locked account does not log in" has_rule eid-not-active
expect 0 "" -- eid unlock "$adult" --send-code --show-code --compact
ucode=$(jq -r .code <<<"$out")
expect 0 "$ucode\n" -- eid unlock "$adult" --code
expect 0 "Hoa sen 2026 xanh\n" -- eid login "$adult"

expect 2 "" -- eid suspend "$adult"
check "a reason is required" has_rule eid-reason
expect 0 "" -- eid suspend "$adult" --reason "court order 12/2026" --compact
check "suspended" test "$(jq -r .state <<<"$out")" = suspended
expect 4 "Hoa sen 2026 xanh\n" -- eid login "$adult"
expect 0 "" -- eid reinstate "$adult" --reason "order lifted" --compact
expect 0 "" -- eid show "$adult" --compact
check "show: active, level 1, password" \
  test "$(jq -c '[.state, .level, .credentials]' <<<"$out")" = '["active",1,["password"]]'

# the audit log names every step; no secret reaches a file
expect 0 "" -- audit log "$adult" --limit 100 --compact
for a in eid.request eid.activate eid.password eid.login eid.lock eid.unlock eid.suspend \
  eid.reinstate eid.show; do
  check "audited: $a" grep -q "\"$a\"" <<<"$out"
done
for f in "$dir"/r.db*; do
  check "no password in $(basename "$f")" bash -c "! grep -aq 'Hoa sen 2026' '$f'"
  check "no code in $(basename "$f")" bash -c "! grep -aq '$code' '$f'"
done
check "the eID key file is private" test "$(stat -c %a "$dir/r.db.eid.key")" = 600

finish
