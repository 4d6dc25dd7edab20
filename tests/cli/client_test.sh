#!/usr/bin/env bash
# CLI integration test of `popid client`: registering clients (the token printed once, the
# warning on stderr, the pepper file made private), validation errors (exit 2, the bad value
# named), show/list never revealing a secret or its hash, the raw database never holding a
# token, rotation with and without grace (checked with `client auth`), disable/enable,
# grant/revoke/set, and the catalogue listing.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db" POPID_ACTOR="test:cli"
# auth TOKEN: `popid client auth` with the token on stdin; the JSON in $out, exit code in $arc.
auth() {
  out=$(printf '%s\n' "$1" | "$popid" client auth --compact 2>"$dir/stderr"); arc=$?
  err=$(cat "$dir/stderr")
}
names() { [[ "$err" == *"$1"* ]]; }

expect 0 client help
expect 0 client fields --compact
check "the catalogue lists fields and grants" \
  test "$(jq -c '[.[] | select(.name == "dob" or .name == "search") | .group]' <<<"$out")" \
  = '["identity","call"]'
check "religion is marked sensitive" \
  test "$(jq -c '.[] | select(.name == "religion") | .sensitive' <<<"$out")" = true

expect 3 client list
check "no registry: says how to create one" has_rule store-missing
expect 0 init --authority "Test Registry"
expect 0 client list --compact
check "no clients yet" test "$out" = "[]"

# -- add
expect 0 client add --name "Bộ Y tế" --kind ministry --roles reader,verifier \
  --fields name,dob,sex --purposes kyc --provinces 01,79 --rate 100 --burst 200 --compact
token=$(jq -r .token <<<"$out")
check "id is the slug of the name" test "$(jq -r .id <<<"$out")" = bo-y-te
check "token format" bash -c '[[ "$0" =~ ^popid_bo-y-te_[A-Za-z0-9_-]{43}$ ]]' "$token"
check "the client JSON" test "$(jq -c '[.kind, .status, .roles, .fields, .purposes, .provinces,
  .rate.per_second, .rate.burst]' <<<"$out")" \
  = '["ministry","active",["reader","verifier"],["name","dob","sex"],["kyc"],["01","79"],100,200]'
check "warning on stderr that the token is shown once" names "shown this once"
check "the warning does not repeat the token" bash -c '[[ "$0" != *"$1"* ]]' "$err" "$token"
check "pepper file is private" test "$(stat -c %a "$POPID_DB.pepper")" = 600
sid=$(jq -r .secret.id <<<"$out")

expect 0 client add --name "Viettel" --kind telco --roles verifier --fields name,dob \
  --grants search --purposes kyc,telco-subscriber --compact
t_viettel=$(jq -r .token <<<"$out")
check "defaults: every province, 10/s, burst 20" \
  test "$(jq -c '[.provinces, .rate.per_second, .rate.burst, .grants]' <<<"$out")" \
  = '["all",10,20,["search"]]'
expect 4 client add --name "Viettel" --kind telco --roles verifier --purposes kyc
check "a taken id is a conflict" has_rule client-exists

# -- validation errors name the bad value, exit 2, store nothing
n_before=$(sqlite3 "$POPID_DB" "SELECT count(*) FROM client")
bad_add() { # RULE NAMED ARGS...
  local rule=$1 named=$2; shift 2
  expect 2 client add "$@"
  check "rule $rule for: $*" has_rule "$rule"
  check "message names '$named' for: $*" names "$named"
}
base=(--name X --kind bank)
bad_add client-kind "'church'" --name X --kind church --roles reader --purposes kyc
bad_add client-role "'root'" "${base[@]}" --roles reader,root --purposes kyc
bad_add grant-unknown "'nme'" "${base[@]}" --roles reader --fields name,nme --purposes kyc
bad_add grant-not-field "'search'" "${base[@]}" --roles reader --fields search --purposes kyc
bad_add grant-is-field "'dob'" "${base[@]}" --roles reader --grants dob --purposes kyc
bad_add client-purpose "'KYC'" "${base[@]}" --roles reader --purposes KYC
bad_add client-purpose "'a_b'" "${base[@]}" --roles reader --purposes a_b
bad_add client-province "Tuyên Quang" "${base[@]}" --roles reader --purposes kyc --provinces 02
bad_add client-province "'x1'" "${base[@]}" --roles reader --purposes kyc --provinces x1
bad_add client-rate "'0'" "${base[@]}" --roles reader --purposes kyc --rate 0
bad_add client-rate "'ten'" "${base[@]}" --roles reader --purposes kyc --burst ten
bad_add client-scope-required "--provinces" "${base[@]}" --roles registrar --purposes kyc
bad_add client-purpose-required "--purposes" "${base[@]}" --roles reader
bad_add client-kind "--kind" --name X --roles reader --purposes kyc
bad_add client-id "'Bad_Id'" "${base[@]}" --roles reader --purposes kyc --id Bad_Id
bad_add list-empty-item "purpose" "${base[@]}" --roles reader --purposes kyc,,tax
expect 2 client add "${base[@]}" --roles reader --purposes kyc --colour blue
check "unknown option named" names "--colour"
check "refused adds stored nothing" \
  test "$(sqlite3 "$POPID_DB" "SELECT count(*) FROM client")" = "$n_before"

# -- show and list: never a secret or a hash
expect 0 client show bo-y-te --compact
check "show gives the secret id" test "$(jq -r .secret.id <<<"$out")" = "$sid"
check "show has no token" test "$(jq -r '.token // "none"' <<<"$out")" = none
check "show does not hold the secret" bash -c '[[ "$0" != *"${1:14}"* ]]' "$out" "$token"
hash_hex=$(sqlite3 "$POPID_DB" "SELECT lower(hex(secret_hash)) FROM client WHERE id = 'bo-y-te'")
check "the hash is 32 bytes" test "${#hash_hex}" -eq 64
check "show does not hold the hash" bash -c '[[ "$0" != *"$1"* ]]' "$out" "$hash_hex"
expect 0 client list --compact
check "list in id order" test "$(jq -c '[.[].id]' <<<"$out")" = '["bo-y-te","viettel"]'
check "list has no hash" bash -c '[[ "$0" != *"$1"* ]]' "$out" "$hash_hex"
expect 3 client show nobody
check "missing client" has_rule client-not-found

# -- the database never holds a token
for f in "$POPID_DB" "$POPID_DB-wal"; do
  [ -f "$f" ] || continue
  check "$f does not hold the token" bash -c '! grep -qaF -- "$1" "$0"' "$f" "${token:14}"
  check "$f does not hold the other token" bash -c '! grep -qaF -- "$1" "$0"' "$f" \
    "${t_viettel:14}"
done

# -- authentication
auth "$token"
check "token authenticates" test "$arc" -eq 0
check "as bo-y-te" test "$(jq -r .client <<<"$out")" = bo-y-te
auth "Bearer $t_viettel"
check "header form authenticates" test "$(jq -r .client <<<"$out")" = viettel
auth "popid_bo-y-te_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check "unknown token: exit 5" test "$arc" -eq 5
check "unknown token: 401 token-unknown" test "$(jq -c '[.status, .rule]' <<<"$out")" \
  = '[401,"token-unknown"]'
auth "Basic abc"
check "malformed header" test "$(jq -r .rule <<<"$out")" = token-malformed
auth ""
check "no credentials" test "$(jq -r .rule <<<"$out")" = token-missing

# -- rotate
expect 0 client rotate bo-y-te --compact
t2=$(jq -r .token <<<"$out")
check "rotate prints a new token" bash -c '[[ "$0" =~ ^popid_bo-y-te_ && "$0" != "$1" ]]' \
  "$t2" "$token"
check "rotate warns on stderr" names "shown this once"
check "no previous secret without grace" test "$(jq -c .secret.previous <<<"$out")" = null
auth "$token"
check "old token refused after rotate" test "$(jq -r .rule <<<"$out")" = token-unknown
auth "$t2"
check "new token accepted" test "$arc" -eq 0
expect 0 client rotate bo-y-te --grace 3600 --compact
t3=$(jq -r .token <<<"$out")
check "previous secret kept with its end" \
  test "$(jq -r '.secret.previous.valid_until | length' <<<"$out")" -eq 20
auth "$t2"
check "old token valid during the grace period" test "$arc" -eq 0
auth "$t3"
check "new token valid" test "$arc" -eq 0
expect 2 client rotate bo-y-te --grace -5
check "bad grace" has_rule client-grace
expect 3 client rotate nobody

# -- disable, enable
expect 0 client disable viettel --compact
check "disabled" test "$(jq -r .status <<<"$out")" = disabled
auth "$t_viettel"
check "disabled client: 401 client-disabled" test "$(jq -c '[.status, .rule]' <<<"$out")" \
  = '[401,"client-disabled"]'
expect 0 client enable viettel --compact
auth "$t_viettel"
check "enabled again" test "$arc" -eq 0

# -- grant, revoke, set
expect 0 client grant bo-y-te --fields religion,permanent_residence --purposes statistics \
  --provinces 48 --compact
check "granted" test "$(jq -c '[.fields, .purposes, .provinces]' <<<"$out")" \
  = '[["name","dob","sex","religion","permanent_residence"],["kyc","statistics"],["01","48","79"]]'
check "granting religion notes it is sensitive" names "religion is sensitive personal data"
expect 0 client revoke bo-y-te --fields religion --provinces 79 --compact
check "revoked" test "$(jq -c '[.fields, .provinces]' <<<"$out")" \
  = '[["name","dob","sex","permanent_residence"],["01","48"]]'
expect 2 client grant bo-y-te --rate 5
check "rate is set, not granted" has_rule client-change
expect 0 client set bo-y-te --rate 5 --burst 9 --name "Bộ Y tế (HIS)" --compact
check "set" test "$(jq -c '[.name, .rate.per_second, .rate.burst, .id]' <<<"$out")" \
  = '["Bộ Y tế (HIS)",5,9,"bo-y-te"]'
expect 2 client grant bo-y-te
check "nothing to change" names "nothing to change"
expect 2 client set bo-y-te --roles registrar --provinces ""
check "registrar without scope refused" has_rule client-scope-required
auth "$t3"
check "grants do not touch credentials" test "$arc" -eq 0

# -- the pepper
chmod 644 "$POPID_DB.pepper"
auth "$t3"
check "a pepper readable by others is refused" has_rule pepper-mode
chmod 600 "$POPID_DB.pepper"
mv "$POPID_DB.pepper" "$dir/pepper.bak"
expect 1 client add --name "Third" --kind bank --roles reader --purposes kyc
check "no new pepper while clients exist" has_rule pepper-missing
check "and no pepper file was made" test ! -e "$POPID_DB.pepper"
mv "$dir/pepper.bak" "$POPID_DB.pepper"

expect 2 client frobnicate
expect 2 client

finish
