#!/usr/bin/env bash
# CLI integration test of `popid import` and `popid export` on the real binary ($POPID): usage
# errors, a family file in both formats, the journal trace, the reject report of both modes, the
# round trip (export, import into an empty registry, export again: the same bytes), crash safety
# (an import of a big file killed with -9 at random moments leaves exactly the registry it
# started from, which still passes `popid check`, and a full import then succeeds), and, when
# `popid gen` is built, gen → import → export keeps every person's fields.
. "$(dirname "$0")/lib.sh"

bg=""
trap '[ -n "$bg" ] && kill -9 $bg 2>/dev/null; rm -rf "$dir"' EXIT
export POPID_DB="$dir/r.db" POPID_ACTOR="test:import"
persons() { "$popid" check --compact --db "${1:-$POPID_DB}" | jq -r .persons; }

# gen N SEED FORMAT [BASE]: families (a head, a spouse naming him back, children after their
# parents) with valid IDs; BASE offsets the IDs so two files do not collide.
gen() {
  awk -v N="$1" -v seed="$2" -v format="$3" -v base="${4:-0}" '
  function pick(a, n) { return a[int(rand() * n) + 1] }
  function mkpid(y, female,   c) {
    c = cnt++
    return sprintf("%s%d%02d%06d", pref[int(c / 1000000) + 1], (y >= 2000 ? 2 : 0) + female,
                   y % 100, c % 1000000)
  }
  function dob(y) { return sprintf("%04d-%02d-%02d", y, int(rand() * 12) + 1, int(rand() * 28) + 1) }
  function emit(p, name, d, sex, father, mother, spouse, rel, tmp, card,   s) {
    if (format == "csv") {
      printf "%s,%s,%s,%s,%s,Hà Nội,Kinh,,VNM,%s,%s,%s,,,%s,%s,01,00004,\"Số %d, phố Hàng Bạc\",,%s,%s\n",
        p, name, d, sex, substr(p, 2, 2), father, mother, spouse, key, rel, hh,
        (tmp ? "79,26734,12 Lê Lợi,2025-01-01,2026-12-31" : ",,,,"), card
    } else {
      s = sprintf("{\"pid\":\"%s\",\"name\":\"%s\",\"dob\":\"%s\",\"sex\":\"%s\",\"birth_province\":\"%s\",\"hometown\":\"Hà Nội\",\"ethnicity\":\"Kinh\"",
        p, name, d, sex, substr(p, 2, 2))
      if (father != "") s = s ",\"father\":\"" father "\",\"mother\":\"" mother "\""
      if (spouse != "") s = s ",\"spouse\":\"" spouse "\""
      s = s sprintf(",\"household\":\"%s\",\"relation\":\"%s\",\"address\":{\"province\":\"01\",\"commune\":\"00004\",\"line\":\"Số %d, phố Hàng Bạc\"}", key, rel, hh)
      if (tmp) s = s ",\"temporary\":{\"province\":\"79\",\"commune\":\"26734\",\"line\":\"12 Lê Lợi\",\"from\":\"2025-01-01\",\"until\":\"2026-12-31\"}"
      if (card != "") s = s ",\"card_issued\":\"" card "\""
      print s "}"
    }
    n++
  }
  BEGIN {
    srand(seed); cnt = base; hh = base
    split("001 002 004 006 008 010 011 012 014 015 017 019 020 022", pref, " ")
    split("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ", fam, " ")
    split("Văn Hữu Đức Công", mm, " "); split("Thị Ngọc Thu Thanh", mf, " ")
    split("An Bình Cường Dũng Hùng Khoa Long Nam", gm, " ")
    split("Anh Châu Dung Giang Hà Hạnh Lan Linh", gf, " ")
    if (format == "csv") print "pid,name,dob,sex,birth_province,hometown,ethnicity,religion,nationality,father,mother,spouse,status,death_date,household,relation,province,commune,address,since,tmp_province,tmp_commune,tmp_address,tmp_from,tmp_until,card_issued"
    while (n < N) {
      hh++; key = sprintf("H%010d", hh); yh = 1950 + int(rand() * 40); f = pick(fam, 12)
      ph = mkpid(yh, 0); single = rand() < 0.2 || n + 1 >= N
      ys = yh + int(rand() * 5); ps = single ? "" : mkpid(ys, 1)
      emit(ph, f " " pick(mm, 4) " " pick(gm, 8), dob(yh), "male", "", "", ps, "head", rand() < 0.1, "2021-06-01")
      if (single) continue
      emit(ps, pick(fam, 12) " " pick(mf, 4) " " pick(gf, 8), dob(ys), "female", "", "", ph, "spouse", 0, "2021-06-01")
      k = int(rand() * 4)
      for (i = 0; i < k && n < N; i++) {
        yc = ys + 20 + int(rand() * 15); if (yc > 2024) yc = 2024
        fem = rand() < 0.5; pc = mkpid(yc, fem)
        emit(pc, f " " (fem ? pick(mf, 4) " " pick(gf, 8) : pick(mm, 4) " " pick(gm, 8)), dob(yc),
             fem ? "female" : "male", ph, ps, "", "child", rand() < 0.1, (2021 - yc >= 14 ? "2021-06-01" : ""))
      }
    }
  }'
}

# -- usage
expect 0 init
gen 300 1 jsonl >"$dir/family.jsonl"
gen 300 1 csv >"$dir/family.csv"
expect 2 import
expect 2 import "$dir/family.jsonl"
check "--mode is required and explained" grep -q "all-or-nothing" <<<"$err"
expect 2 import "$dir/family.jsonl" --mode some
expect 2 import "$dir/family.jsonl" --mode valid-only --frobnicate 1
expect 2 import "$dir/family.txt" --mode valid-only
expect 2 import "$dir/family.jsonl" --mode valid-only --rejects "$dir/family.jsonl"
check "the report never overwrites an input" test "$(wc -l <"$dir/family.jsonl")" -eq 300
expect 2 export --format xml
check "usage errors store nothing" test "$(persons)" -eq 0

# -- a valid file in each format
expect 0 import "$dir/family.jsonl" --mode all-or-nothing --compact
check "300 loaded" test "$(jq -r .loaded <<<"$out")" -eq 300
check "no refusal" test "$(jq -r .rejected <<<"$out")" -eq 0
check "persons stored" test "$(persons)" -eq 300
check "empty reject report" test ! -s "$dir/family.jsonl.rejects.jsonl"
first=$(head -1 "$dir/family.jsonl" | jq -r .pid)
expect 0 person history "$first" --compact
check "history shows the import" test "$(jq -r '.events[0].type' <<<"$out")" = import
check "the import names its file and sha256" \
  test "$(jq -r '.events[0].details.files[0].sha256' <<<"$out")" = "$(sha256sum "$dir/family.jsonl" | cut -c1-64)"
check "the import records the actor" test "$(jq -r '.events[0].actor' <<<"$out")" = test:import
expect 0 init --db "$dir/c.db"
expect 0 import "$dir/family.csv" --mode all-or-nothing --db "$dir/c.db" --compact
check "CSV loads the same people" test "$(persons "$dir/c.db")" -eq 300

# -- round trip: export, import into an empty registry, export: the same bytes
for fmt in jsonl csv; do
  expect 0 export --format "$fmt" --out "$dir/e1.$fmt"
  expect 0 init --db "$dir/rt-$fmt.db"
  expect 0 import "$dir/e1.$fmt" --mode all-or-nothing --db "$dir/rt-$fmt.db"
  expect 0 export --db "$dir/rt-$fmt.db" --format "$fmt" --out "$dir/e2.$fmt"
  check "$fmt round trip is byte-identical" cmp -s "$dir/e1.$fmt" "$dir/e2.$fmt"
done
check "export keeps every person" test "$(wc -l <"$dir/e1.jsonl")" -eq 300

# -- standard input ("-"): format and reject report named; read from a pipe, same registry
expect 2 import - --mode all-or-nothing --rejects "$dir/in.rej" --db "$dir/rt-csv.db"
expect 2 import - --mode all-or-nothing --format csv --db "$dir/rt-csv.db"
expect 2 import - - --mode all-or-nothing --format csv --rejects "$dir/in.rej" --db "$dir/rt-csv.db"
expect 0 init --db "$dir/in.db"
out=$(cat "$dir/e1.csv" | "$popid" import - --format csv --mode all-or-nothing \
  --rejects "$dir/in.rej" --db "$dir/in.db" --compact 2>"$dir/stderr")
check "import from stdin: $(cat "$dir/stderr")" test "$(jq -r .loaded <<<"$out")" -eq 300
expect 0 export --db "$dir/in.db" --format csv --out "$dir/e3.csv"
check "stdin import round trip is byte-identical" cmp -s "$dir/e1.csv" "$dir/e3.csv"
"$popid" export >"$dir/stdout.jsonl"
check "export to stdout" cmp -s "$dir/stdout.jsonl" "$dir/e1.jsonl"
norm='del(.since, .status, .nationality) | .household = (.household != null)'
check "export has the fields of the file" \
  test "$(jq -cS "$norm" "$dir/family.jsonl" | sort | md5sum)" = "$(jq -cS "$norm" "$dir/e1.jsonl" | sort | md5sum)"

# -- refusals: all-or-nothing stores nothing, valid-only stores the rest
expect 0 init --db "$dir/bad.db"
# Whole households only: the first K lines, then a duplicate of line 1 as line 6 and a bad ID last.
K=$(grep -n '"relation":"head"' "$dir/family.jsonl" | awk -F: '$1 > 20 { print $1 - 1; exit }')
{ head -5 "$dir/family.jsonl"; head -1 "$dir/family.jsonl"; sed -n "6,${K}p" "$dir/family.jsonl"
  echo '{"pid":"001080000001","name":"A B","dob":"1981","sex":"male","birth_province":"01"}'; } >"$dir/bad.jsonl"
expect 4 import "$dir/bad.jsonl" --mode all-or-nothing --db "$dir/bad.db" --rejects "$dir/rej.jsonl"
check "all-or-nothing stores nothing" test "$(persons "$dir/bad.db")" -eq 0
check "the report has one object per refused line" test "$(wc -l <"$dir/rej.jsonl")" -eq 2
check "report keys" test "$(head -1 "$dir/rej.jsonl" | jq -c keys_unsorted)" = '["file","line","pid","field","rule","reason"]'
check "duplicate on line 6" test "$(jq -c 'select(.line == 6) | [.rule, .field]' "$dir/rej.jsonl")" = '["person-duplicate","pid"]'
check "inconsistent ID on the last line" \
  test "$(jq -r "select(.line == $((K + 2))) | .rule" "$dir/rej.jsonl")" = pid-inconsistent
expect 0 import "$dir/bad.jsonl" --mode valid-only --db "$dir/bad.db" --rejects "$dir/rej2.jsonl"
check "valid-only stores the valid lines" test "$(persons "$dir/bad.db")" -eq "$K"
check "valid-only prints the count" grep -q "2 line(s) refused" <<<"$err"
check "same report" cmp -s "$dir/rej.jsonl" "$dir/rej2.jsonl"

# -- crash safety: kill -9 at random moments; the registry is as before, then a full import
gen 300000 2 csv 500000 >"$dir/big.csv"
before=$(persons)
for i in 1 2 3 4; do
  "$popid" import "$dir/big.csv" --mode all-or-nothing --rejects "$dir/big.rej" >/dev/null 2>&1 &
  bg=$!
  # From the first lines to the index rebuild and the commit, at random.
  sleep "$(((i - 1) / 2)).$((RANDOM % 9 + 1))$((RANDOM % 10))"
  if kill -0 "$bg" 2>/dev/null; then
    kill -9 "$bg"; wait "$bg" 2>/dev/null; bg=""
    check "killed import $i left the registry as it was" test "$(persons)" -eq "$before"
    expect 0 check --compact
  else
    wait "$bg"; bg=""; bad "import $i finished before the kill: make the file bigger"
  fi
done
expect 0 import "$dir/big.csv" --mode all-or-nothing --compact
check "full import after the kills" test "$(persons)" -eq $((before + 300000))
expect 0 check --compact

# -- gen → import → export keeps every person's fields (when popid gen is built)
if "$popid" gen --people 10 --seed 1 --format jsonl >/dev/null 2>&1; then
  "$popid" gen --people 3000 --seed 5 --format jsonl >"$dir/gen.jsonl"
  expect 0 init --db "$dir/gen.db"
  expect 0 import "$dir/gen.jsonl" --mode all-or-nothing --db "$dir/gen.db"
  expect 0 export --db "$dir/gen.db" --out "$dir/gen-out.jsonl"
  # Household keys are renamed (the set of members must stay together); defaults written out.
  fields='{pid, name, dob, sex, birth_province, hometown, ethnicity, religion, nationality, father, mother, spouse, death_date, relation, address, temporary, card_issued,
    status: (.status // "living"), since: (if .household then (.since // .dob) else null end)}
    | with_entries(select(.value != null and .value != ""))'
  check "gen → import → export keeps the fields" \
    test "$(jq -cS "$fields" "$dir/gen.jsonl" | sort | md5sum)" = "$(jq -cS "$fields" "$dir/gen-out.jsonl" | sort | md5sum)"
  groups='[inputs | select(.household) | {h: .household, p: .pid}] | group_by(.h) | map(map(.p) | sort) | sort'
  check "gen → import → export keeps the households" \
    test "$(jq -nc "$groups" "$dir/gen.jsonl" | md5sum)" = "$(jq -nc "$groups" "$dir/gen-out.jsonl" | md5sum)"
fi

finish
