#!/usr/bin/env bash
# Integration test of POST /v1/auth/verify-batch's admission (docs/AUTH.md "Batch"): the client is
# authenticated and its call checked at the headers, so a refused upload is never spooled. The
# real binary with TMPDIR set to a directory of the test; the measure is the bytes the server
# process wrote (wchar of /proc/PID/io), since the spool is an unnamed O_TMPFILE that no directory
# listing shows. A 32 MiB upload without a token, with a wrong token (sent without waiting for
# "100 Continue"), from a client without the verifier role and with a wrong content type: each
# answered with its problem and none makes the server write the body. The control: the same
# upload from an admitted client is spooled (the server writes at least its size), so the measure
# does see a spool. An admitted client declaring more than the cap gets its 413 with the headers.
. "$(dirname "$0")/lib.sh"

[ -r /proc/self/io ] || { echo "batch_admit_test: no /proc/PID/io, skipped"; exit 0; }
db="$dir/r.db"
"$popid" init --db "$db" >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
"$popid" demo --db "$db" >/dev/null 2>&1 || { echo "FAIL: demo" >&2; exit 1; }
client() { client_add bank "$1" --db "$db" "${@:2}"; }
client bank --roles verifier --fields pid,name,dob --purposes kyc --rate 10000 --burst 10000
client reader --roles reader --fields pid,name,dob --purposes kyc --rate 10000 --burst 10000

mkdir "$dir/tmp"
TMPDIR="$dir/tmp" serve_start --db "$db"
BV="$url/v1/auth/verify-batch?purpose=kyc"

# 32 MiB of CSV: a header and 8,191 lines of 4,095 bytes, each a malformed line (csv-columns)
# with a one-line answer.
{
  echo 'pid,name,dob'
  head -c 4095 /dev/zero | tr '\0' 'a' >"$dir/line"
  echo >>"$dir/line"
  for _ in $(seq 8191); do cat "$dir/line"; done
} >"$dir/big.csv"
size=$(stat -c %s "$dir/big.csv")
# A well-formed token that is no client's: the bank's with its secret changed.
t=$(tok bank)
bogus=${t%????}$([ "${t: -4}" = AAAA ] && echo BBBB || echo AAAA)
wchar() { awk '$1 == "wchar:" { print $2 }' "/proc/$spid/io"; }
limit=$((4 * 1024 * 1024)) # far below the upload: answers and audit entries only

# upload NAME CLIENT CT [CURL-ARGS...]: the big file; $code, $wrote (bytes the server wrote).
upload() {
  local name=$1 c=$2 ct=$3; shift 3
  local auth=()
  case $c in
  -) ;;
  bogus) auth=(-H "Authorization: Bearer $bogus") ;;
  *) auth=(-H "Authorization: Bearer $(tok "$c")") ;;
  esac
  local w0
  w0=$(wchar)
  code=$(curl -s -o "$dir/$name.body" -w '%{http_code}' "${auth[@]}" -X POST \
    -H "Content-Type: $ct" --data-binary @"$dir/big.csv" "$@" "$BV")
  wrote=$(($(wchar) - w0))
}

upload none - text/csv
eq "no token: 401" "$code" 401
check "no token: the server wrote $wrote bytes (< $limit)" test "$wrote" -lt "$limit"

upload bogus bogus text/csv
eq "wrong token: 401" "$code" 401
check "wrong token: the server wrote $wrote bytes (< $limit)" test "$wrote" -lt "$limit"
eq "wrong token: the problem" "$(jq -r .type "$dir/bogus.body" 2>/dev/null)" \
  "https://popid.example/problems/token-unknown"

# Without "Expect: 100-continue" the client sends the body at once: the server answers, reads
# none of it and closes the connection (curl may see the close before the answer: the status is
# not checked, the bytes written are).
upload noexpect bogus text/csv -H 'Expect:'
check "wrong token, body sent at once: the server wrote $wrote bytes (< $limit)" test "$wrote" -lt "$limit"

upload reader reader text/csv
eq "reader: 403" "$code" 403
eq "reader: the rule" "$(jq -r .type "$dir/reader.body" 2>/dev/null)" \
  "https://popid.example/problems/role-missing"
check "reader: the server wrote $wrote bytes (< $limit)" test "$wrote" -lt "$limit"

upload ctype bank text/plain
eq "wrong content type: 415" "$code" 415
check "wrong content type: the server wrote $wrote bytes (< $limit)" test "$wrote" -lt "$limit"

# The server still answers after the refused uploads, and an admitted upload is spooled.
upload admitted bank text/csv
eq "admitted: 200" "$code" 200
check "admitted: the server spooled it ($wrote bytes >= $size)" test "$wrote" -ge "$size"
eq "admitted: one answer per line" "$(wc -l <"$dir/admitted.body")" 8192
eq "admitted: a malformed line's answer" "$(sed -n 2p "$dir/admitted.body")" "2,,invalid,csv-columns"
check "nothing left in TMPDIR" test -z "$(ls -A "$dir/tmp")"
kill -TERM "$spid"
wait "$spid" 2>/dev/null

# An admitted client declaring more than the cap (Content-Length over 2 GiB) is refused with the
# headers too, not after 2 GiB were read. (A server with a short idle timeout, so that one which
# waited for the body would end the connection without an answer rather than hang the test.)
TMPDIR="$dir/tmp" serve_start --db "$db" --timeout 5
for expect_hdr in 'Expect: 100-continue' 'Expect:'; do
  code=$(curl -s -o "$dir/decl.body" -w '%{http_code}' -H "Authorization: Bearer $(tok bank)"     -H 'Content-Type: text/csv' -H 'Content-Length: 3000000000' -H "$expect_hdr"     --data-binary 'pid,name,dob' "$url/v1/auth/verify-batch?purpose=kyc")
  eq "declared 3 GB ($expect_hdr): 413 at once" "$code" 413
  eq "declared 3 GB: the rule" "$(jq -r .type "$dir/decl.body" 2>/dev/null)" \
    "https://popid.example/problems/batch-too-large"
done
kill -TERM "$spid"
wait "$spid" 2>/dev/null
finish
