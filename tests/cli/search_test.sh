#!/usr/bin/env bash
# CLI integration test of `popid person search`: the three match modes, NFD and upper-case input,
# đ folding, the filters (dob with partial dates, years, sex, status, province resolved to its
# 2025 unit), paging with --cursor to the end without duplicates, and the refusals (bad name,
# option, limit, cursor) with exit code 2 and one line on stderr.
. "$(dirname "$0")/lib.sh"

export POPID_DB="$dir/r.db" POPID_ACTOR="test:cli"
# names: the results of the last search as "name dob" lines joined by "|".
names() { jq -r '[.results[] | .name + " " + .dob] | join("|")' <<<"$out"; }
# search WANT ARGS...: a one-page search whose results must be WANT.
search() {
  local want=$1; shift
  expect 0 person search --compact "$@"
  check "search $*: got '$(names)', want '$want'" test "$(names)" = "$want"
  check "search $* is one page" test "$(jq -r .next <<<"$out")" = null
}

expect 0 init
enrol() { # PID NAME DOB SEX [PROVINCE]
  local extra=()
  [ -n "${5:-}" ] && extra=(--address.province "$5" --address.commune 00004 --address.line "1 Phố Huế")
  expect 0 event enrol --pid "$1" --name "$2" --dob "$3" --sex "$4" --ethnicity Kinh \
    "${extra[@]}" --date 2020-01-01
}
enrol 001090000001 "Nguyễn Văn An" 1990-05-12 male 02
enrol 001090000002 "Nguyễn Vân An" 1990 male 01
enrol 001085000003 "Nguyễn Văn Bình" 1985-03 male
enrol 001170000004 "Đặng Thị Hoa" 1970-01-02 female 79
enrol 001170000005 "Dương Thị Hoa" 1970-01-02 female 79
enrol 001060000006 "Nguyễn Văn An" 1960 male 01
expect 0 event death --pid 001060000006 --date 2024-01-01

# -- modes, normalization
search "Nguyễn Văn An 1990-05-12" --name "NGUYỄN VĂN AN" --match exact
search "Nguyễn Văn An 1990-05-12" --name $'Nguye\xcc\x82\xcc\x83n Va\xcc\x86n An' --match exact
search "Nguyễn Vân An 1990|Nguyễn Văn An 1990-05-12" --name "nguyen van an"
search "Nguyễn Vân An 1990|Nguyễn Văn An 1990-05-12" --name "nguyen van an" --match folded
search "Đặng Thị Hoa 1970-01-02" --name "dang thi hoa"
search "Đặng Thị Hoa 1970-01-02" --name "Dang" --match prefix
search "Nguyễn Vân An 1990|Nguyễn Văn An 1990-05-12|Nguyễn Văn Bình 1985-03" \
  --name "nguyen van" --match prefix
search "" --name "nguyen va" --match prefix
expect 0 person search --name "nguyen van an" --compact
check "results carry pid, name, dob, sex, status, province" \
  test "$(jq -c '.results[1] | [.pid, .name, .dob, .sex, .status, .province.code]' <<<"$out")" \
  = '["001090000001","Nguyễn Văn An","1990-05-12","male","living","08"]'

# -- filters
search "Nguyễn Vân An 1990|Nguyễn Văn An 1990-05-12" --name "nguyen van an" --dob 1990-05-12
search "Nguyễn Vân An 1990" --name "nguyen van an" --dob 1990-06
search "Nguyễn Vân An 1990|Nguyễn Văn An 1990-05-12" --name "nguyen van an" --year 1990
search "Nguyễn Văn Bình 1985-03" --name "nguyen van" --match prefix --born-from 1980 --born-to 1989
search "Đặng Thị Hoa 1970-01-02" --name "dang thi hoa" --sex female
search "" --name "dang thi hoa" --sex male
search "Nguyễn Văn An 1990-05-12" --name "nguyen van an" --province 08
search "Nguyễn Văn An 1990-05-12" --name "nguyen van an" --province 02
search "Nguyễn Vân An 1990" --name "nguyen van an" --province 01
search "Nguyễn Văn An 1960" --name "nguyen van an" --status deceased
search "Nguyễn Văn An 1960|Nguyễn Vân An 1990|Nguyễn Văn An 1990-05-12" --name "nguyen van an" \
  --status any

# -- pages: limit 1 to the end, every result once, in order
seen=""
cursor=()
for page in 1 2 3 4 5 6; do
  expect 0 person search --name nguyen --match prefix --status any --limit 1 --compact "${cursor[@]}"
  seen+="$(names);"
  next=$(jq -r .next <<<"$out")
  [ "$next" = null ] && break
  cursor=(--cursor "$next")
done
check "paging gives every match once, in order: $seen" test "$seen" = \
  "Nguyễn Văn An 1960;Nguyễn Vân An 1990;Nguyễn Văn An 1990-05-12;Nguyễn Văn Bình 1985-03;"
check "the last page says so" test "$next" = null

# -- refusals: exit 2, one line naming the problem
expect 0 person search --name nguyen --match prefix --limit 1 --compact
c=$(jq -r .next <<<"$out")
# One character of the position changed (to another base64url character).
ch=${c:10:1}; [ "$ch" = A ] && to=B || to=A
expect 2 person search --name nguyen --match prefix --limit 1 --cursor "${c:0:10}$to${c:11}"
check "an altered cursor is refused" grep -q "search-cursor" <<<"$err"
expect 2 person search --name nguyen --match prefix --sex male --cursor "$c"
check "a cursor of another search is refused" grep -q "search-cursor" <<<"$err"
expect 2 person search --name nguyen --match prefix --cursor "not a cursor"
expect 2 person search --name "Nguyễn 2"
check "a bad name says why" grep -q "name-character" <<<"$err"
expect 2 person search --name $'Nguy\xff'
check "invalid UTF-8 is refused" grep -q "text-utf8" <<<"$err"
expect 2 person search --name ""
expect 2 person search --name "$(printf 'a%.0s' {1..300})"
check "a name over the cap is refused" grep -q "text-too-big" <<<"$err"
expect 2 person search
check "the name is required" grep -q "search-name" <<<"$err"
expect 2 person search --name an --limit 0
expect 2 person search --name an --limit 101
check "the limit's range is named" grep -q "1 to 100" <<<"$err"
expect 0 person search --name an --limit 100
expect 2 person search --name an --match sounds-like
expect 2 person search --name an --year 1990 --born-from 1980
expect 2 person search --name an --province 99
expect 2 person search --name an --dob 1990-02-30
expect 2 person search --name an --bogus 1
expect 2 person search extra --name an
expect 2 person show 001090000001 --name an
check "every refusal is one line" test "$(wc -l <<<"$err")" -eq 1

finish
