#!/usr/bin/env bash
# Integration test of the data endpoints of `popid serve` ($POPID): the real binary on a free
# port, a demo registry, clients made with `popid client add`, driven with curl and jq.
# Covers every /v1 data endpoint; every refusal (400, 401, 403 per rule, 404, 405, 413, 429)
# with problem bodies free of person data; the grant matrix (one client per field: a person,
# residence and search answer carry exactly the granted keys, no other anywhere); search
# pagination; the access log showing this test's reads with client, fields and purpose;
# /metrics per-client counters and the audit queue gauge; nothing stored changing after bad
# input; and `popid audit verify` after a graceful stop.
. "$(dirname "$0")/lib.sh"

db="$dir/r.db"
"$popid" init --db "$db" >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
"$popid" demo --db "$db" >/dev/null 2>&1 || { echo "FAIL: demo" >&2; exit 1; }

ALL=pid,name,dob,sex,birth_province,hometown,nationality,ethnicity,religion,father,mother,spouse,children,status,death_date,permanent_residence,temporary_residence,household,cards,record
# client ID ARGS...: adds a client, its token in $dir/ID.tok
client() { client_add ministry "$1" --db "$db" "${@:2}"; }
client full --roles reader --fields "$ALL" --grants search,confirmation --purposes kyc,tax --rate 10000 --burst 10000
client narrow --roles reader --fields pid,name,dob --grants search --purposes kyc --rate 10000 --burst 10000
client verif --roles verifier --fields pid,name --purposes kyc --rate 10000 --burst 10000
client admin --roles admin --grants access_log --rate 10000 --burst 10000
client slow --roles reader --fields pid,name --purposes kyc --rate 1 --burst 1
client off --roles reader --fields pid,name --purposes kyc
"$popid" client disable --db "$db" off >/dev/null 2>&1 || bad "disable"
# One client per field (plus pid), for the grant matrix.
FIELDS=(name dob sex birth_province hometown nationality ethnicity religion father mother spouse children status death_date permanent_residence temporary_residence household cards record)
for f in "${FIELDS[@]}"; do
  client "f-${f//_/-}" --roles reader --fields "pid,$f" --grants search --purposes kyc --rate 10000 --burst 10000
done

serve_start --db "$db" --max-body 4096
B=$url

# problem STATUS RULE: the last answer is that problem, with only the problem's keys.
problem() {
  eq "status for $2" "$code" "$1"
  eq "type of $2" "$(jq -r .type <<<"$body" 2>/dev/null)" "https://popid.example/problems/$2"
  eq "problem keys of $2" "$(jq -c 'keys' <<<"$body" 2>/dev/null)" '["detail","instance","status","title","type"]'
  eq "content type of $2" "$(header content-type)" application/problem+json
}
keys() { jq -c '[paths | .[-1] | strings] | unique' <<<"$body"; }

# Subjects: a living person with a permanent residence and household (found through the full
# client), and one elsewhere for the scope test.
req full -X POST -d '{"name":"nguyen","match":"prefix","limit":50}' "$B/v1/persons/search?purpose=kyc"
eq "search as full" "$code" 200
mapfile -t cands < <(jq -r '.results[] | select(.province != null) | .pid' <<<"$body")
pid=""
for c in "${cands[@]}"; do
  req full "$B/v1/persons/$c/household?purpose=kyc"
  [ "$code" = 200 ] && { pid=$c; break; }
done
[ -n "$pid" ] || { echo "FAIL: no demo person with a household" >&2; exit 1; }
req full "$B/v1/persons/$pid?purpose=kyc"
eq "person as full" "$code" 200
name=$(jq -r .full_name <<<"$body")
prov=$(jq -r '.residence.permanent.address.province.code' <<<"$body")
check "the person has a name and province" test -n "$name" -a "$prov" != null
other=$(printf '%02d' $(( 10#$prov == 1 ? 79 : 1 )))
client scoped --roles reader --fields pid,name --purposes kyc --provinces "$other" --rate 10000 --burst 10000
client inscope --roles reader --fields pid,name --purposes kyc --provinces "$prov" --rate 10000 --burst 10000
sleep 1.2 # the client cache's staleness bound (docs/ACCESS.md)

before_export=$("$popid" export --db "$db" 2>/dev/null | sha256sum)
before_events=$(sqlite3 "$db" 'SELECT count(*) FROM event' 2>/dev/null)

# -- every endpoint, as the full client
req full "$B/v1/persons/$pid?purpose=kyc"
eq "person 200" "$code" 200
eq "person pid" "$(jq -r .pid <<<"$body")" "$pid"
check "person has no unknown key" test "$(jq -r 'has("name_key")' <<<"$body")" = false
req full "$B/v1/persons/$pid/residence?purpose=kyc"
eq "residence 200" "$code" 200
check "residence has the permanent one" test "$(jq -r '.permanent | type' <<<"$body")" = object
req full "$B/v1/persons/$pid/residence?purpose=kyc&on=2024-01-01"
eq "residence on a date 200" "$code" 200
req full "$B/v1/persons/$pid/residence?purpose=kyc&on=2024-13-01"
problem 400 on-malformed
req full "$B/v1/persons/$pid/household?purpose=kyc"
eq "household 200" "$code" 200
check "household lists the person" test "$(jq --arg p "$pid" '[.members[] | select(.pid == $p)] | length' <<<"$body")" = 1
req full "$B/v1/residence-confirmations/$pid?purpose=kyc"
eq "confirmation 200" "$code" 200
check "confirmation is a compact JWS" grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' <<<"$(jq -r .jws <<<"$body")"
req narrow "$B/v1/residence-confirmations/$pid?purpose=kyc"
problem 403 grant-missing
req full -H 'Content-Type: application/json' -X POST -d "{\"name\":\"$name\",\"match\":\"exact\"}" "$B/v1/persons/search?purpose=tax"
eq "search by exact name 200" "$code" 200
check "search finds the person" test "$(jq --arg p "$pid" '[.results[] | select(.pid == $p)] | length' <<<"$body")" = 1

# -- 400
req full "$B/v1/persons/12345?purpose=kyc"
problem 400 pid-malformed
req full "$B/v1/persons/$pid?purpose=KYC!"
problem 400 purpose-malformed
req full -X POST -d '{"name":' "$B/v1/persons/search?purpose=kyc"
problem 400 body-json
req full -X POST -d '[1]' "$B/v1/persons/search?purpose=kyc"
problem 400 body-not-object
req full -X POST --data-binary $'{"name":"\xff\xfe"}' "$B/v1/persons/search?purpose=kyc"
problem 400 body-not-utf8
req full -X POST -d '{"name":"an","religion":"x"}' "$B/v1/persons/search?purpose=kyc"
problem 400 unknown-field
req full -X POST -d '{"name":"an","limit":1000}' "$B/v1/persons/search?purpose=kyc"
eq "search limit over 100 is 400" "$code" 400
req full -X POST -d '{"name":"an","cursor":"AAAA"}' "$B/v1/persons/search?purpose=kyc"
eq "a forged cursor is 400" "$code" 400
req full -X POST -d "{\"name\":\"$(head -c 5000 /dev/zero | tr '\0' a)\"}" "$B/v1/persons/search?purpose=kyc"
problem 413 body-too-large
# -- 401
req - "$B/v1/persons/$pid?purpose=kyc"
problem 401 token-missing
eq "WWW-Authenticate without a token" "$(header www-authenticate)" 'Bearer realm="popid"'
code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' -H 'Authorization: Basic Zm9vOmJhcg==' "$B/v1/persons/$pid?purpose=kyc"); body=$(cat "$dir/body"); hdr=$(tr -d '\r' <"$dir/hdr")
problem 401 token-malformed
eq "WWW-Authenticate invalid_token" "$(header www-authenticate)" 'Bearer realm="popid", error="invalid_token"'
code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' -H "Authorization: Bearer popid_full_$(head -c 43 /dev/zero | tr '\0' A)" "$B/v1/persons/$pid?purpose=kyc"); body=$(cat "$dir/body"); hdr=$(tr -d '\r' <"$dir/hdr")
eq "unknown token 401" "$code" 401
eq "unknown token rule" "$(jq -r .type <<<"$body")" https://popid.example/problems/token-unknown
req off "$B/v1/persons/$pid?purpose=kyc"
problem 401 client-disabled
# -- 403, each rule
req verif "$B/v1/persons/$pid?purpose=kyc"
problem 403 role-missing
req narrow "$B/v1/persons/$pid/household?purpose=kyc"
problem 403 grant-missing
req full "$B/v1/persons/$pid"
problem 403 purpose-missing
req full "$B/v1/persons/$pid?purpose=statistics"
problem 403 purpose-not-allowed
req scoped "$B/v1/persons/$pid?purpose=kyc"
problem 403 province-out-of-scope
check "a 403 names no person data" test "$(grep -c -F "$name" <<<"$body")" = 0
req inscope "$B/v1/persons/$pid?purpose=kyc"
eq "in scope 200" "$code" 200
req narrow "$B/v1/persons/$pid/access-log"
problem 403 role-missing
req f-name "$B/v1/persons/$pid/residence?purpose=kyc"
problem 403 grant-missing
# -- 404, 405
req full "$B/v1/persons/079000000001?purpose=kyc"
problem 404 person-not-found
check "404 echoes only the pid" test "$(jq -r .detail <<<"$body" | grep -c '[A-Za-z]\{3\}')" -ge 0
req full -X DELETE "$B/v1/persons/$pid?purpose=kyc"
problem 405 method-not-allowed
req full "$B/v1/persons/search"
problem 400 pid-malformed
# -- 429
req slow "$B/v1/persons/$pid?purpose=kyc"
eq "first request of a 1/s client" "$code" 200
req slow "$B/v1/persons/$pid?purpose=kyc"
problem 429 rate-limited
check "Retry-After >= 1" test "$(header retry-after)" -ge 1

after_export=$("$popid" export --db "$db" 2>/dev/null | sha256sum)
after_events=$(sqlite3 "$db" 'SELECT count(*) FROM event' 2>/dev/null)
eq "nothing stored changed" "$after_export" "$before_export"
eq "no event appended" "$after_events" "$before_events"

# -- the grant matrix: one field granted (plus pid), every document carries exactly it
declare -A PKEYS=([name]=full_name [dob]=dob [sex]=sex [birth_province]=birth_province [hometown]=hometown
  [nationality]=nationality [ethnicity]=ethnicity [religion]=religion [father]=father [mother]=mother
  [spouse]=spouse [children]=children [status]=status [death_date]=death_date [permanent_residence]=residence
  [temporary_residence]=residence [household]= [cards]=cards [record]=created_at,updated_at,version)
full_keys=$(req full "$B/v1/persons/$pid?purpose=kyc"; jq -c 'keys' <<<"$body")
for f in "${FIELDS[@]}"; do
  c="f-${f//_/-}"
  req "$c" "$B/v1/persons/$pid?purpose=kyc"
  want=$(jq -c --arg k "pid,${PKEYS[$f]}" --argjson full "$full_keys" '$k | split(",") | map(select(. as $x | $full | index($x))) | sort' <<<'null')
  if [ "$code" = 200 ]; then
    eq "person keys with only $f granted" "$(jq -c 'keys' <<<"$body")" "$want"
  else
    bad "person as $c: $code"
  fi
  # search results: pid, plus name/dob/sex/status/province when that field is granted
  req "$c" -X POST -d "{\"name\":\"$name\",\"match\":\"exact\"}" "$B/v1/persons/search?purpose=kyc"
  case $f in
    name) sk='["name","pid"]' ;; dob) sk='["dob","pid"]' ;; sex) sk='["pid","sex"]' ;;
    status) sk='["pid","status"]' ;; permanent_residence) sk='["pid","province"]' ;; *) sk='["pid"]' ;;
  esac
  eq "search result keys with only $f" "$(jq -c '[.results[] | keys] | unique | .[0] // ["pid"]' <<<"$body")" "$sk"
  eq "search top-level keys with only $f" "$(jq -c 'keys' <<<"$body")" '["next","results"]'
done
# residence: granted permanent only -> no household/relation keys, no temporary
req f-permanent-residence "$B/v1/persons/$pid/residence?purpose=kyc"
eq "residence as permanent_residence" "$code" 200
check "no household keys without the household grant" test "$(keys | jq 'index("household") == null and index("relation") == null and index("temporary") == null')" = true
req f-household "$B/v1/persons/$pid/household?purpose=kyc"
eq "household with the household field" "$code" 200
check "household members without the name grant carry no full_name" test "$(keys | jq 'index("full_name") == null')" = true
req narrow "$B/v1/persons/$pid?purpose=kyc"
eq "narrow keys exactly granted" "$(jq -c keys <<<"$body")" '["dob","full_name","pid"]'

# -- pagination
req full -X POST -d '{"name":"nguyen","match":"prefix","limit":3}' "$B/v1/persons/search?purpose=kyc"
p1=$(jq -c '[.results[].pid]' <<<"$body"); cur=$(jq -r .next <<<"$body")
check "page 1 has 3 and a cursor" test "$(jq length <<<"$p1")" = 3 -a "$cur" != null
req full -X POST -d "{\"name\":\"nguyen\",\"match\":\"prefix\",\"limit\":3,\"cursor\":\"$cur\"}" "$B/v1/persons/search?purpose=kyc"
eq "page 2 200" "$code" 200
p2=$(jq -c '[.results[].pid]' <<<"$body")
eq "pages do not overlap" "$(jq -n --argjson a "$p1" --argjson b "$p2" '$a - $b | length')" "$(jq length <<<"$p1")"
req full -X POST -d "{\"name\":\"tran\",\"match\":\"prefix\",\"limit\":3,\"cursor\":\"$cur\"}" "$B/v1/persons/search?purpose=kyc"
eq "a cursor of another query is 400" "$code" 400

# -- access log
req admin "$B/v1/persons/$pid/access-log?limit=500"
eq "access log 200" "$code" 200
check "access log shows full's read with kyc and name" test "$(jq '[.entries[] | select(.actor == "client:full" and .action == "person.read" and .purpose == "kyc" and (.fields | index("name")) and .outcome == "ok")] | length > 0' <<<"$body")" = true
check "access log shows the search with purpose tax" test "$(jq '[.entries[] | select(.actor == "client:full" and .action == "person.search" and .purpose == "tax")] | length > 0' <<<"$body")" = true
check "access log shows narrow's fields" test "$(jq -c '[.entries[] | select(.actor == "client:narrow" and .action == "person.read")][0].fields' <<<"$body")" = '["dob","name","pid"]'
check "access log shows the denial" test "$(jq '[.entries[] | select(.actor == "client:scoped" and .outcome == "denied" and .rule == "province-out-of-scope")] | length' <<<"$body")" -ge 1
req admin "$B/v1/persons/$pid/access-log?limit=2"
n1=$(jq -r .next <<<"$body")
check "access log paginates" test "$(jq '.entries | length' <<<"$body")" = 2 -a "$n1" != null
req admin "$B/v1/persons/$pid/access-log?limit=2&before=$n1"
eq "access log page 2" "$code" 200
req admin "$B/v1/persons/$pid/access-log?limit=0"
problem 400 query-parameter
req admin "$B/v1/persons/$pid/access-log?limit=500"
check "the access log read is itself audited" test "$(jq '[.entries[] | select(.actor == "client:admin" and .action == "person.access-log")] | length' <<<"$body")" -ge 1
req full "$B/v1/persons/079000000001?purpose=kyc"
req admin "$B/v1/persons/079000000001/access-log"
problem 404 person-not-found

# -- metrics
m=$(curl -s "$B/metrics")
check "per-client counter" grep -q '^popid_api_client_requests_total{client="full",code="2xx"} [1-9]' <<<"$m"
check "per-client histogram" grep -q '^popid_api_client_request_duration_seconds_count{client="narrow"} [1-9]' <<<"$m"
check "audit queue gauge" grep -q '^popid_audit_queue_depth [0-9]' <<<"$m"

# -- stop, then the audit log verifies
kill -TERM "$spid"
wait "$spid"; rc=$?
eq "serve exits 0" "$rc" 0
"$popid" audit verify --db "$db" >"$dir/verify" 2>&1
eq "audit verify passes" "$?" 0

finish
