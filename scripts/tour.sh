#!/usr/bin/env bash
# A guided tour of the popid CLI on a fresh demo registry: called by scripts/run.sh with the
# binary and a directory (wiped and recreated). Each step prints the command, then its output.
set -euo pipefail
popid=$(realpath "$1")
dir=$2
rm -rf "$dir" && mkdir -p "$dir"
export POPID_DB="$dir/registry.db" POPID_ACTOR="operator:tour"
bold=$(tput bold 2>/dev/null || true) off=$(tput sgr0 2>/dev/null || true)
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
run() { printf '%s$ popid %s%s\n' "$bold" "$*" "$off" >&2; "$popid" "$@"; }
# run, but the command is expected to be refused: show its message and exit code.
refused() {
  printf '%s$ popid %s%s\n' "$bold" "$*" "$off"
  set +e; "$popid" "$@"; local rc=$?; set -e
  echo "(exit code $rc)"
}
short() { sed -n '1,40p'; }

say "Create a registry (SQLite at $POPID_DB) and its signing key"
run init --authority "Cục Cảnh sát QLHC về TTXH (demo)"

say "Fill it with synthetic families through the real life-event services"
run demo --people "${POPID_DEMO_PEOPLE:-3000}" --seed 6 | tee "$dir/demo.json"
pid=$(jq -r .sample_pid "$dir/demo.json")

say "Read a personal ID number: province of birth registration, century and sex, birth year"
run pid parse "$pid"
run pid explain "$pid"
refused pid parse 003190123456

say "One person: record, residence, cards, children"
run person show "$pid" | short
spouse=$("$popid" person show "$pid" --compact | jq -r .spouse)
hh=$("$popid" person show "$pid" --compact | jq -r .residence.permanent.household)
today=$(date -u +%F)

say "A birth: the registry allocates the child's ID and registers it in the mother's household"
run event birth --name "Nguyễn Văn Bình" --dob "$today" --sex male --birth_province 01 \
  --father "$pid" --mother "$spouse" | tee "$dir/birth.json"
child=$(jq -r .pid "$dir/birth.json")

say "Rules refuse what the law forbids, and nothing is stored"
refused event marriage --a "$child" --b "$spouse"
refused event birth --name "Lê Thị Hoa" --dob "$today" --sex female --birth_province 02 \
  --mother "$spouse"

say "The household today, and as it was yesterday"
run household show "$hh"
run household show "$hh" --on "$(date -u -d yesterday +%F)"

say "The journal of the child: every event with actor, legal basis and time"
run person history "$child"

say "Confirmation of residence (form CT07), signed by the registry (ES256 JWS)"
run residence confirm "$pid" >"$dir/ct07.json"
jq '.document | {type, issuer, issued, valid_until, subject, permanent}' "$dir/ct07.json"
run residence verify "$dir/ct07.json" --compact | jq -c '{valid}'
echo "A third party verifies with only the public key:"
"$popid" key show >"$dir/registry.jwk"
run residence verify "$dir/ct07.json" --jwk "$dir/registry.jwk" --compact | jq -c '{valid}'
jq '.document.permanent.address.line = "Số 1 phố giả mạo"' "$dir/ct07.json" >"$dir/forged.json"
refused residence verify "$dir/forged.json"

say "Integrity check of the store"
run check

printf '\nThe demo registry stays in %s; try: POPID_DB=%s %s help\n' "$dir" "$POPID_DB" "$popid"
