#!/usr/bin/env bash
# CLI integration test of `popid gen`: usage errors (exit 2, one clear line), exactly N lines,
# the CSV header of docs/FORMATS.md, the same people in JSONL and CSV, the same bytes for the same
# seed (sha256sum) and other bytes for another seed or date, --out, and a write error (exit 1).
. "$(dirname "$0")/lib.sh"

src=${POPID_SOURCE_DIR:-.}
# expect CODE ARGS...: runs popid gen, checks the exit code; stderr in $err.
expect() {
  local want=$1; shift
  "$popid" gen "$@" >"$dir/out" 2>"$dir/err"; local rc=$?
  err=$(cat "$dir/err")
  if [ "$rc" -eq "$want" ]; then ok; else bad "popid gen $* exited $rc, expected $want: $err"; fi
}

# -- usage errors: exit 2, a message naming the problem, nothing on stdout
usage_cases=(
  "|--people is required"
  "--people 10|--seed is required"
  "--seed 1|--people is required"
  "--people -5 --seed 1|--people needs a whole number"
  "--people 12x --seed 1|--people needs a whole number"
  "--people 1000000001 --seed 1|--people needs a whole number"
  "--people 10 --seed abc|--seed needs a whole number"
  "--people 10 --seed 1 --format xml|--format must be jsonl or csv"
  "--people 10 --seed 1 --today 2026-02-30|--today needs a date"
  "--people 10 --seed 1 --today 2026|--today needs a date"
  "--people 10 --seed 1 --today 1999-12-31|--today needs a date"
  "--people 10 --seed 1 --colour blue|unknown option --colour"
  "--people 10 --seed 1 extra|unexpected argument 'extra'"
  "--people 10 --seed|option --seed needs a value"
)
for c in "${usage_cases[@]}"; do
  args=${c%%|*} want=${c#*|}
  # shellcheck disable=SC2086
  expect 2 $args
  check "'$args' says '$want' (got: $err)" grep -qF -- "$want" "$dir/err"
  check "'$args' prints usage" grep -qF "usage: popid gen" "$dir/err"
  check "'$args' writes nothing to stdout" test ! -s "$dir/out"
done
expect 0 --help
check "--help prints usage on stdout" grep -qF "usage: popid gen" "$dir/out"
"$popid" help | grep -qF "gen --people N --seed S" && ok || bad "popid help lists gen"

# -- exactly N lines
for n in 0 1 2 17 1000 20000; do
  expect 0 --people "$n" --seed 3
  check "jsonl: $n lines" test "$(wc -l <"$dir/out")" -eq "$n"
  expect 0 --people "$n" --seed 3 --format csv
  check "csv: header + $n lines" test "$(wc -l <"$dir/out")" -eq $((n + 1))
done

# -- the CSV header is the one in docs/FORMATS.md
expect 0 --people 5 --seed 1 --format csv
doc_header=$(grep -m1 '^pid,name,' "$src/docs/FORMATS.md")
check "csv header as documented" test "$(head -1 "$dir/out")" = "$doc_header"

# -- JSONL and CSV carry the same people (the unit test compares every column; here the first
# sixteen, which never hold a comma, and the quoting of the addresses that do)
"$popid" gen --people 3000 --seed 11 >"$dir/a.jsonl"
"$popid" gen --people 3000 --seed 11 --format csv >"$dir/a.csv"
jq -r '[.pid, .name, .dob, .sex, .birth_province, .hometown, .ethnicity, (.religion // ""),
        .nationality, (.father // ""), (.mother // ""), (.spouse // ""), .status,
        (.death_date // ""), (.household // ""), (.relation // "")] | join(",")' \
  "$dir/a.jsonl" >"$dir/j.txt"
tail -n +2 "$dir/a.csv" | cut -d, -f1-16 >"$dir/c.txt"
check "jsonl and csv hold the same people" cmp -s "$dir/j.txt" "$dir/c.txt"
with_comma=$(jq -r 'select(.address.line // "" | contains(",")) | .pid' "$dir/a.jsonl" | wc -l)
quoted=$(grep -c '"' "$dir/a.csv")
check "addresses with commas are quoted in csv ($with_comma, $quoted)" \
  test "$with_comma" -gt 0 -a "$quoted" -ge "$with_comma"
check "every jsonl line is an object with a valid-looking pid" \
  test "$(jq -r 'select(.pid|test("^0[0-9]{11}$"))|.pid' "$dir/a.jsonl" | sort -u | wc -l)" -eq 3000

# -- determinism: same options, same bytes; another seed or date, other bytes
h1=$("$popid" gen --people 50000 --seed 99 | sha256sum)
h2=$("$popid" gen --people 50000 --seed 99 | sha256sum)
h3=$("$popid" gen --people 50000 --seed 100 | sha256sum)
h4=$("$popid" gen --people 50000 --seed 99 --today 2026-01-01 | sha256sum)
h5=$("$popid" gen --people 50000 --seed 99 --today 2027-06-30 | sha256sum)
check "same seed, same bytes" test "$h1" = "$h2"
check "other seed, other bytes" test "$h1" != "$h3"
check "the default date is 2026-01-01" test "$h1" = "$h4"
check "another date, other bytes" test "$h1" != "$h5"
c1=$("$popid" gen --people 20000 --seed 99 --format csv | sha256sum)
c2=$("$popid" gen --people 20000 --seed 99 --format csv | sha256sum)
check "csv: same seed, same bytes" test "$c1" = "$c2"

# -- --out writes the same bytes as stdout
expect 0 --people 20000 --seed 99 --out "$dir/o.jsonl"
check "--out leaves stdout empty" test ! -s "$dir/out"
check "--out holds the same bytes" test "$(sha256sum <"$dir/o.jsonl")" \
  = "$("$popid" gen --people 20000 --seed 99 | sha256sum)"
expect 1 --people 10 --seed 1 --out "$dir/no/such/dir/x.jsonl"
check "unwritable --out is named" grep -qF "cannot create" "$dir/err"
if [ -w /dev/full ]; then
  "$popid" gen --people 100000 --seed 1 >/dev/full 2>"$dir/err"; rc=$?
  check "a full disk exits 1 (got $rc)" test "$rc" -eq 1
  check "a full disk is reported" grep -qF "failed" "$dir/err"
fi

finish
