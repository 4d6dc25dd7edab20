#!/usr/bin/env bash
# Bulk load of a generated population, three ways on the same file in the same run:
#   popid     `popid import --mode all-or-nothing` of the CSV into a new SQLite registry
#             (validates every record, normalizes names, writes persons, households, residence,
#             cards and the journal in one transaction);
#   sqlite3   the sqlite3 shell's `.import --csv` of the same CSV into one flat table with the
#             same key and secondary indexes as popid's person table, same pragmas (WAL, FULL);
#   postgres  PostgreSQL COPY (psql \copy) of the same CSV into an equivalent table with the
#             same indexes, on a real server started here (tuned for bulk load: big WAL, 1 GB
#             shared buffers; fsync on).
# Reports rows/s (median of --reps), ratios and peak memory (max RSS of the loading process;
# for PostgreSQL the backend's VmHWM). Usage:
#   bench/bench_import.sh [--sizes "1000000 10000000"] [--reps 3] [--popid PATH]
# Data, databases and the PostgreSQL cluster live under bench/out/import/ (or $POPID_BENCH_TMP).
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="1000000"
reps=3
popid="build-bench/popid"
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --popid) popid="$2"; shift 2 ;;
    *) echo "usage: bench/bench_import.sh [--sizes \"N...\"] [--reps R] [--popid PATH]" >&2; exit 2 ;;
  esac
done
[ -x "$popid" ] || { echo "bench_import: $popid not built (run bench/run.sh import)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "bench_import: sqlite3 shell missing (scripts/deps.sh)" >&2; exit 2; }
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$pgbin/initdb" ] || { echo "bench_import: PostgreSQL missing (bash scripts/deps.sh bench)" >&2; exit 2; }

work="${POPID_BENCH_TMP:-$PWD/bench/out/import}"
mkdir -p "$work"
chmod 755 "$work"

# ---- PostgreSQL: a private cluster owned by the postgres user, on a unix socket in $work/pg ----
pgdata="$work/pg/data"
pgsock="$work/pg"
pgport=55432
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
pg_start() {
  mkdir -p "$work/pg"
  chown postgres "$work/pg" 2>/dev/null || true
  if [ ! -d "$pgdata" ]; then
    as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --no-sync >/dev/null
    cat >>"$pgdata/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$pgsock'
port = $pgport
shared_buffers = 1GB
maintenance_work_mem = 1GB
max_wal_size = 16GB
checkpoint_timeout = 30min
fsync = on
synchronous_commit = on
EOF
  fi
  as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$work/pg/log" -w start >/dev/null
}
pg_stop() { as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true; }
trap pg_stop EXIT
psql_() { as_pg psql -X -q -h "$pgsock" -p "$pgport" -U postgres -v ON_ERROR_STOP=1 "$@"; }

# The flat table both peers load: the CSV's 26 columns, pid as the key, and the secondary
# indexes popid's person table has (name, father, mother) plus the household key.
table_sql='CREATE TABLE person(
 pid BIGINT PRIMARY KEY, name TEXT NOT NULL, dob TEXT NOT NULL, sex TEXT NOT NULL,
 birth_province TEXT, hometown TEXT, ethnicity TEXT, religion TEXT, nationality TEXT,
 father BIGINT, mother BIGINT, spouse BIGINT, status TEXT, death_date TEXT, household TEXT,
 relation TEXT, province TEXT, commune TEXT, address TEXT, since TEXT, tmp_province TEXT,
 tmp_commune TEXT, tmp_address TEXT, tmp_from TEXT, tmp_until TEXT, card_issued TEXT);
CREATE INDEX person_name ON person(name, dob);
CREATE INDEX person_father ON person(father) WHERE father IS NOT NULL;
CREATE INDEX person_mother ON person(mother) WHERE mother IS NOT NULL;
CREATE INDEX person_household ON person(household);'

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

results="$work/results.jsonl"
: >"$results"
pg_start

for n in $sizes; do
  csv="$work/people-$n.csv"
  if [ ! -s "$csv" ]; then
    echo "-- generating $n people" >&2
    "$popid" gen --people "$n" --seed 1 --format csv --out "$csv.tmp"
    mv "$csv.tmp" "$csv"
  fi
  chmod 644 "$csv"
  bytes=$(stat -L -c %s "$csv")
  for rep in $(seq 1 "$reps"); do
    # popid
    db="$work/popid-$n.db"
    rm -f "$db" "$db"-* "$db".*
    "$popid" init --db "$db" >/dev/null
    t0=$(now)
    /usr/bin/time -f '%M' -o "$work/rss" "$popid" import --db "$db" --mode all-or-nothing \
      --rejects "$work/rejects.jsonl" "$csv" >/dev/null 2>"$work/popid.err" \
      || { cat "$work/popid.err" >&2; exit 1; }
    t1=$(now)
    echo "{\"impl\":\"popid\",\"n\":$n,\"rep\":$rep,\"s\":$(echo "$t1 - $t0" | bc),\"rss_kb\":$(cat "$work/rss")}" >>"$results"

    # sqlite3 shell
    sdb="$work/sqlite3-$n.db"
    rm -f "$sdb" "$sdb"-*
    sqlite3 "$sdb" "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; $table_sql" >/dev/null
    t0=$(now)
    /usr/bin/time -f '%M' -o "$work/rss" sqlite3 "$sdb" \
      -cmd "PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;" \
      ".import --csv --skip 1 $csv person" >/dev/null
    t1=$(now)
    echo "{\"impl\":\"sqlite3-import\",\"n\":$n,\"rep\":$rep,\"s\":$(echo "$t1 - $t0" | bc),\"rss_kb\":$(cat "$work/rss")}" >>"$results"

    # PostgreSQL COPY
    psql_ -c "DROP TABLE IF EXISTS person;" -c "$table_sql" >/dev/null
    psql_ -c "CHECKPOINT" >/dev/null
    t0=$(now)
    psql_ -At -c "SELECT pg_backend_pid()" \
      -c "\\copy person FROM '$csv' WITH (FORMAT csv, HEADER true)" \
      -c "SELECT pg_sleep(0.3)" >"$work/pg.out" &
    ppid=$!
    bpid=""
    hwm=0
    while kill -0 "$ppid" 2>/dev/null; do
      [ -z "$bpid" ] && bpid=$(head -1 "$work/pg.out" 2>/dev/null | tr -dc 0-9)
      if [ -n "$bpid" ] && [ -r "/proc/$bpid/status" ]; then
        h=$(awk '/VmHWM/ {print $2}' "/proc/$bpid/status" 2>/dev/null || echo 0)
        [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
      fi
      sleep 0.05
    done
    wait "$ppid"
    t1=$(now)
    s=$(echo "$t1 - $t0 - 0.3" | bc)
    echo "{\"impl\":\"postgres-copy\",\"n\":$n,\"rep\":$rep,\"s\":$s,\"rss_kb\":$hwm}" >>"$results"
    echo "-- n=$n rep=$rep done" >&2
  done
  rm -f "$work/sqlite3-$n.db"*
done

# ---- summary ----
printf '\n%-16s %11s %10s %12s %12s %10s\n' impl people 'median s' 'rows/s' 'peak MB' 'vs PG COPY'
for n in $sizes; do
  bytes=$(stat -L -c %s "$work/people-$n.csv")
  pg_med=$(jq -r "select(.n==$n and .impl==\"postgres-copy\") | .s" "$results" | median)
  for impl in popid sqlite3-import postgres-copy; do
    med=$(jq -r "select(.n==$n and .impl==\"$impl\") | .s" "$results" | median)
    rss=$(jq -r "select(.n==$n and .impl==\"$impl\") | .rss_kb" "$results" | sort -g | tail -1)
    rate=$(echo "$n / $med" | bc)
    ratio=$(printf '%.2f' "$(echo "scale=4; $pg_med / $med" | bc)")
    printf '%-16s %11s %10.2f %12s %12s %10s\n' "$impl" "$n" "$med" "$rate" "$((rss / 1024))" "$ratio"
    echo "{\"bench\":\"import\",\"impl\":\"$impl\",\"people\":$n,\"reps\":$reps,\"median_s\":$med,\"rows_per_s\":$rate,\"peak_rss_mb\":$((rss / 1024)),\"vs_postgres_copy\":$ratio,\"csv_bytes\":$bytes}"
  done
done
