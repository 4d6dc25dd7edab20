#!/usr/bin/env bash
# CLI integration test of `popid qr`: issue an identity QR (JSON, --text, --terminal, --png),
# each issue on the audit log with the fields released; verify it offline with only the public
# JWK (no registry), and refuse it tampered, under another key, expired (--at) or malformed; the
# PNG is a real PNG of the right size, and when zbarimg (zbar-tools) is installed it decodes back
# to the credential. Then `qr parse-card` on good chip card texts (7 and 6 fields, dd/mm/yyyy,
# from stdin) and bad ones, each refusal naming its rule.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db" POPID_ACTOR="test:qr"
# expect_in CODE INPUT CMD...: the same with INPUT on stdin.
expect_in() {
  local want=$1 input=$2; shift 2
  out=$("$popid" "$@" <<<"$input" 2>"$dir/stderr"); local rc=$?
  err=$(cat "$dir/stderr")
  if [ "$rc" -eq "$want" ]; then ok; else bad "popid $* <<<'$input' exited $rc, expected $want: $err"; fi
}
audit() { sqlite3 "$POPID_DB.audit" "$1"; }

AN=079092026135
expect 0 init --authority "Registry office"
expect 0 event enrol --pid $AN --name "Nguyễn Văn An" --dob 1992-05-01 --sex male \
  --ethnicity Kinh --address.province 79 --address.commune 26734 --address.line "12 Lê Lợi" \
  --date 2020-01-01
expect 0 key show
echo "$out" >"$dir/pub.jwk"

# -- issue
expect 0 qr issue --pid $AN --fields name,dob,sex,pid,over18 --png "$dir/id.png"
check "issue shows the released fields" \
  test "$(jq -c '.fields' <<<"$out")" = '{"pid":"079092026135","name":"Nguyễn Văn An","dob":"1992-05-01","sex":"male","over18":true}'
check "expires 30 days after issue by default" \
  test "$(jq '.expires - .issued' <<<"$out")" = 2592000
check "QR level M, version matches the modules" \
  test "$(jq -c '[.qr.level, (.qr.modules == 17 + 4 * .qr.version)]' <<<"$out")" = '["M",true]'
cred=$(jq -r .credential <<<"$out")
check "the issue is on the audit log with the released fields" \
  test "$(audit "SELECT fields || ' ' || outcome FROM audit_entry WHERE action = 'idqr.issue'")" = "dob,name,over18,pid,sex ok"
check "PNG signature" test "$(head -c 8 "$dir/id.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a
modules=$(jq .qr.modules <<<"$out")
size=$(( (modules + 8) * 8 ))
check "PNG is ${size}x${size} (modules + quiet zone, 8 px each)" \
  test "$(od -An -tu1 -j16 -N8 "$dir/id.png" | awk '{print $3*256+$4 "x" $7*256+$8}')" = "${size}x${size}"
check "PNG readable by its owner only" test "$(stat -c %a "$dir/id.png")" = 600
if command -v zbarimg >/dev/null; then
  check "the PNG decodes back to the credential (zbarimg)" \
    test "$(zbarimg -q --raw "$dir/id.png" 2>/dev/null | tr -d '\n')" = "$cred"
else
  echo "qr_test: zbarimg not installed (scripts/deps.sh installs zbar-tools): PNG decode skipped" >&2
fi

expect 0 qr issue --pid $AN --fields name --text --ttl 1h
check "--text prints only the credential" bash -c "[[ '$out' =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$ ]]"
short=$out
expect 0 qr issue --pid $AN --fields over18 --terminal
check "--terminal prints half blocks in black on white" \
  bash -c "[[ \$(head -1 <<<'$out') == $'\e[30;47m'* && '$out' == *█* ]]"
expect 0 qr issue --pid $AN --fields name --text --terminal
check "--text --terminal: the code, then the credential" \
  bash -c "[[ \$(tail -1 <<<'$out') =~ ^[A-Za-z0-9_.-]+$ && \$(head -1 <<<'$out') == $'\e[30;47m'* ]]"

n0=$(audit "SELECT count(*) FROM audit_entry")
expect 2 qr issue --pid $AN --fields name,photo
check "unknown field" has_rule idqr-field
expect 2 qr issue --pid $AN --fields name --ttl 400d
check "lifetime over a year" has_rule idqr-ttl
expect 3 qr issue --pid 001090000999 --fields name
check "unknown person" has_rule person-not-found
expect 4 qr issue --pid $AN --fields hometown
check "no hometown on record" has_rule idqr-field-empty
check "refused issues that read the registry are audited as denied" \
  test "$(audit "SELECT count(*) FROM audit_entry WHERE seq > $n0 AND outcome != 'ok'")" = 2
expect 2 qr issue --fields name
expect 2 qr issue --pid $AN --fields name --scale 99

# -- verify, offline: no registry
unset POPID_DB
expect 0 qr verify --jwk "$dir/pub.jwk" "$cred"
check "verified claims" \
  test "$(jq -c '[.valid, .claims.name, .claims.sex, .claims.over18]' <<<"$out")" = '[true,"Nguyễn Văn An","male",true]'
expect_in 0 "$cred" qr verify --jwk "$dir/pub.jwk" -
expect_in 0 "$short" qr verify --jwk "$dir/pub.jwk"
check "stdin without -" test "$(jq -r .claims.name <<<"$out")" = "Nguyễn Văn An"
# a changed claim with the signature kept: the name swapped in the payload
payload=$(cut -d. -f2 <<<"$cred" | tr '_-' '/+')
while [ $(( ${#payload} % 4 )) -ne 0 ]; do payload="$payload="; done
forged=$(base64 -d <<<"$payload" 2>/dev/null | sed 's/Nguyễn Văn An/Nguyễn Văn Ba/' | base64 -w0 | tr '/+' '_-' | tr -d '=')
tampered="$(cut -d. -f1 <<<"$cred").$forged.$(cut -d. -f3 <<<"$cred")"
check "the forgery differs" test "$tampered" != "$cred"
expect 5 qr verify --jwk "$dir/pub.jwk" "$tampered"
check "tampered payload: bad signature" has_rule signature-invalid
sig=$(cut -d. -f3 <<<"$cred")
flipped=${sig:0:10}$( [ "${sig:10:1}" = A ] && echo B || echo A )${sig:11}
expect 5 qr verify --jwk "$dir/pub.jwk" "$(cut -d. -f1,2 <<<"$cred").$flipped"
check "tampered signature" has_rule signature-invalid
# another registry's key
POPID_DB="$dir/other.db" "$popid" init >/dev/null 2>&1
POPID_DB="$dir/other.db" "$popid" key show >"$dir/other.jwk"
expect 5 qr verify --jwk "$dir/other.jwk" "$cred"
check "another key" has_rule signature-invalid
# expiry: a 1-hour credential checked 2 hours on
expect 5 qr verify --jwk "$dir/pub.jwk" "$short" --at $(( $(date +%s) + 7200 ))
check "expired" has_rule credential-expired
expect 5 qr verify --jwk "$dir/pub.jwk" "$short" --at 1000
check "issued in the future of the verifier's clock" has_rule credential-not-yet-valid
expect 2 qr verify --jwk "$dir/pub.jwk" "not a credential"
check "malformed" has_rule credential-malformed
expect 2 qr verify --jwk "$dir/pub.jwk" "$(head -c 5000 /dev/zero | tr '\0' A)"
check "oversize" has_rule credential-too-big
expect 2 qr verify "$cred"
check "verify needs --jwk" bash -c "[[ '$err' == *--jwk* ]]"
expect 2 qr verify --jwk "$dir/nope.jwk" "$cred"

# -- parse-card: chip citizen-ID card QR text (Circular 06/2021)
CARD="$AN|123456789|Nguyễn Văn An|01051992|Nam|12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh|15082021"
expect 0 qr parse-card "$CARD"
check "7 fields parsed" \
  test "$(jq -c '[.fields, .pid, .old_id, .full_name, .dob, .sex, .issued, .expires]' <<<"$out")" \
  = '[7,"079092026135","123456789","Nguyễn Văn An","1992-05-01","male","2021-08-15","2032-05-01"]'
expect_in 0 "$AN|Nguyễn Văn An|01/05/1992|Nam|Hà Nội|15/08/2021" qr parse-card -
check "6 fields, dd/mm/yyyy, from stdin" \
  test "$(jq -c '[.fields, .date_style, .old_id]' <<<"$out")" = '[6,"dd/mm/yyyy",null]'
expect_in 0 "001195000004||Lê Thị Lan|10051995|NỮ|Hà Nội|01022024" qr parse-card
check "female, upper case" test "$(jq -r .sex <<<"$out")" = female
expect 2 qr parse-card "$AN|Nguyễn Văn An|01051992|Nam|Hà Nội"
check "5 fields" has_rule cardqr-fields
expect 2 qr parse-card "079192026135||Nguyễn Văn An|01051992|Nam|Hà Nội|15082021"
check "century-sex digit disagrees" has_rule cardqr-pid-mismatch
expect 2 qr parse-card "$AN||Nguyễn Văn An|31021992|Nam|Hà Nội|15082021"
check "impossible date, naming the field" bash -c "[[ '$err' == *'field 4 (date of birth)'*'[cardqr-date]'* ]]"
expect 2 qr parse-card "$AN||Nguyễn Văn An|01051992|Nam|Hà Nội|30041992"
check "issued before birth" has_rule cardqr-issued-before-birth
expect 2 qr parse-card "$AN||Nguyễn Văn An|01051992|Male|Hà Nội|15082021"
check "unknown sex word" has_rule cardqr-sex
expect 2 qr parse-card "$(printf '%s||Nguy\xe1\xbb|01051992|Nam|Ha Noi|15082021' $AN)"
check "invalid UTF-8" has_rule cardqr-utf8
expect_in 2 "$(head -c 2000 /dev/zero | tr '\0' x)" qr parse-card
check "oversize" has_rule cardqr-too-big
expect 2 qr frobnicate
expect 0 qr --help

finish
