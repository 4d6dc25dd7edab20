# shellcheck shell=bash disable=SC2034 # $out, $url, $code... are read by the tests
# Helpers shared by the CLI integration tests (tests/cli/*_test.sh), sourced first by each with
# `. "$(dirname "$0")/lib.sh"`. Not a test itself: CMake only runs files named *_test.sh.
#
# Sourcing it sets `set -u`, $popid (the binary, from $POPID: the test stops if unset), $dir (a
# temporary directory) and $pids (background processes: every one is killed, then $dir removed,
# when the test exits; a test with more to undo redefines cleanup()), and the counters $passes and
# $fails. The helpers:
#   ok / bad MESSAGE           count a pass / a failure (the message to stderr with "FAIL:")
#   check DESCRIPTION CMD...   a pass if CMD succeeds, else a failure named DESCRIPTION
#   eq DESCRIPTION GOT WANT    a pass if the two strings are equal
#   expect CODE ARGS...        runs "$popid" ARGS..., a pass if it exits CODE; stdout in $out,
#                              stderr in $err (a test whose expect differs defines its own)
#   has_rule RULE              the last $err names the rule id [RULE]
#   serve_start ARGS...        `popid serve --listen 127.0.0.1:0 ARGS...` in the background
#   client_add KIND ID ARGS... `popid client add` of client ID; its token in $dir/ID.tok
#   tok ID                     that token
#   req CLIENT ARGS...         curl as CLIENT ("-" for no token): $code, $body, $hdr (a test
#                              whose requests take other arguments defines its own req)
#   header NAME                a header of the last response ($hdr), by case-insensitive name
#   receiver_start             the webhook receiver tests/cli/otp_receiver.py
#   receiver_wait FILTER ...   the last line the receiver logged that matches a jq FILTER
#   finish                     prints "<test>: N passed, M failed"; its status is the test's
#                              exit status (non-zero on any failure), so it must come last.
set -u
popid=${POPID:?set POPID to the binary}
cli_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
fails=0 passes=0

ok() { passes=$((passes + 1)); }
bad() { fails=$((fails + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION TEST...: a condition.
check() { local d=$1; shift; if "$@"; then ok; else bad "$d"; fi; }
eq() { local d=$1; if [ "$2" = "$3" ]; then ok; else bad "$d: got '$2', want '$3'"; fi; }
# expect CODE CMD...: runs popid, checks the exit code; stdout in $out, stderr in $err.
expect() {
  local want=$1; shift
  out=$("$popid" "$@" 2>"$dir/stderr"); local rc=$?
  err=$(cat "$dir/stderr")
  if [ "$rc" -eq "$want" ]; then ok; else bad "popid $* exited $rc, expected $want: $err"; fi
}
has_rule() { [[ "$err" == *"[$1]"* ]]; }

# serve_start ARGS...: runs `popid serve --listen 127.0.0.1:0 ARGS...` in the background (stdout
# to $dir/s.out, stderr appended to $dir/s.err), waits (bounded, not a timing assertion) for the
# first stdout line and sets $spid, $port and $url (http://127.0.0.1:PORT); stops the test if the
# server did not start.
serve_start() {
  : >"$dir/s.out"
  "$popid" serve --listen 127.0.0.1:0 "$@" >"$dir/s.out" 2>>"$dir/s.err" &
  spid=$!
  pids+=("$spid")
  for _ in $(seq 250); do [ -s "$dir/s.out" ] && break; sleep 0.02; done
  port=$(jq -r .port "$dir/s.out" 2>/dev/null)
  [[ "$port" =~ ^[0-9]+$ ]] || { echo "FAIL: serve did not start: $(tail -5 "$dir/s.err")" >&2; exit 1; }
  url="http://127.0.0.1:$port"
}

# client_add KIND ID ARGS...: registers client ID (its name too) of KIND with `popid client add
# ARGS...` (--db in ARGS or POPID_DB set); the token, printed once, in $dir/ID.tok; a failure
# naming the refusal if no token came.
client_add() {
  local kind=$1 id=$2; shift 2
  "$popid" client add --id "$id" --name "$id" --kind "$kind" "$@" 2>"$dir/$id.err" |
    jq -r .token >"$dir/$id.tok"
  grep -q '^popid_' "$dir/$id.tok" || bad "client add $id: $(grep -v 'shown once\|not be shown' "$dir/$id.err" | head -3)"
}
tok() { cat "$dir/$1.tok"; }
# req CLIENT ARGS...: curl as CLIENT ("-" for none): $code, $body, $hdr.
req() {
  local c=$1; shift
  local auth=()
  [ "$c" != - ] && auth=(-H "Authorization: Bearer $(tok "$c")")
  code=$(curl -s -o "$dir/body" -D "$dir/hdr" -w '%{http_code}' "${auth[@]}" "$@")
  body=$(cat "$dir/body")
  hdr=$(tr -d '\r' <"$dir/hdr")
}
header() { awk -v h="$(tr '[:upper:]' '[:lower:]' <<<"$1"):" 'tolower($1) == h { sub(/^[^:]*: */, ""); print; exit }' <<<"$hdr"; }

# receiver_start: the webhook receiver standing in for the SMS/e-mail gateway
# (tests/cli/otp_receiver.py): it logs to $dir/received.jsonl, checks signatures with
# $dir/secret and answers as $dir/plan says; sets $rpid and $rport.
receiver_start() {
  rm -f "$dir/rport"
  python3 "$cli_dir/otp_receiver.py" "$dir/rport" "$dir/received.jsonl" "$dir/secret" \
    "$dir/plan" 2>"$dir/receiver.err" &
  rpid=$!
  pids+=("$rpid")
  for _ in $(seq 250); do [ -s "$dir/rport" ] && break; sleep 0.02; done
  rport=$(cat "$dir/rport" 2>/dev/null)
  [[ "$rport" =~ ^[0-9]+$ ]] || { echo "FAIL: receiver: $(cat "$dir/receiver.err")" >&2; exit 1; }
}
# receiver_wait FILTER JQ-ARGS...: waits (bounded, not a timing assertion) until the receiver
# logged a line matching the jq FILTER (JQ-ARGS such as --arg bind its variables); prints the last
# such line, or returns 1 if none came.
receiver_wait() {
  local filter=$1; shift
  for _ in $(seq 500); do
    local l
    l=$(jq -c "$@" "select($filter)" "$dir/received.jsonl" 2>/dev/null | tail -1)
    [ -n "$l" ] && { printf '%s\n' "$l"; return 0; }
    sleep 0.02
  done
  return 1
}

# demo_registry N SEED: a registry of N demo people at $dir/r.db (POPID_DB), exported to
# $dir/all.jsonl; living_adults: the pids of its living people born before 2000 with a card.
demo_registry() {
  export POPID_DB="$dir/r.db"
  "$popid" init >/dev/null 2>&1 || { echo "FAIL: init" >&2; exit 1; }
  "$popid" demo --people "$1" --seed "$2" >/dev/null 2>&1 || { echo "FAIL: demo" >&2; exit 1; }
  "$popid" export --format jsonl --out "$dir/all.jsonl" >/dev/null 2>&1
}
living_adults() {
  jq -r 'select(.status == "living" and .card_issued != null and .dob < "2000") | .pid' \
    "$dir/all.jsonl"
}

# eid_account PID ARGS...: an active eID account for PID (eid request ARGS --show-code, then
# activate with the code).
eid_account() {
  local pid=$1 code
  shift
  code=$("$popid" eid request "$pid" "$@" --show-code --compact 2>/dev/null | jq -r .code)
  printf '%s\n' "$code" | "$popid" eid activate "$pid" >/dev/null 2>&1 || bad "activate $pid"
}

# finish: the summary line; non-zero when any check failed (the test's last command).
finish() {
  echo "$(basename "$0" .sh): $passes passed, $fails failed"
  [ "$fails" -eq 0 ]
}
