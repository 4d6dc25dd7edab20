#!/usr/bin/env bash
# popid's first command: installs what is missing, builds, creates a demo registry on the embedded
# default (SQLite, in ./demo): a few thousand families through the real life-event services (with
# a guided tour of the CLI), then a generated population of POPID_DEMO_GEN people (default
# 100,000) bulk-imported. Then it runs popid's main job: the API server on
# 127.0.0.1:${POPID_PORT:-8080}, with a demo client whose token is printed. Ctrl-C stops it.
# Run it again at any time; it starts from a fresh demo registry.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target popid >/dev/null
popid="$PWD/build/popid"
scripts/tour.sh "$popid" demo
export POPID_DB="$PWD/demo/registry.db" POPID_ACTOR="operator:demo"

n="${POPID_DEMO_GEN:-100000}"
if [ "$n" -gt 0 ]; then
  printf '\n== Bulk import of %s generated people (popid gen | popid import)\n' "$n"
  "$popid" gen --people "$n" --seed 7 --format csv --out demo/people.csv
  "$popid" import --mode all-or-nothing --rejects demo/rejects.jsonl demo/people.csv
fi

printf '\n== A client for the API: a portal that may read identity fields for KYC\n'
"$popid" client add --name "Demo portal" --kind portal --roles reader \
  --fields pid,name,dob,sex,status --grants search --purposes kyc \
  >demo/client.json 2>/dev/null
token=$(jq -r .token demo/client.json)
pid=$(jq -r .sample_pid demo/demo.json)
port="${POPID_PORT:-8080}"
cat <<MSG

== popid serve on http://127.0.0.1:$port (Ctrl-C to stop). Try, from another terminal:
curl -s -H 'Authorization: Bearer $token' 'http://127.0.0.1:$port/v1/persons/$pid?purpose=kyc'
curl -s -H 'Authorization: Bearer $token' -d '{"name":"nguyen van an","match":"folded","limit":3}' 'http://127.0.0.1:$port/v1/persons/search?purpose=kyc'
curl -s http://127.0.0.1:$port/v1/openapi.json | jq '.paths | keys'
curl -s http://127.0.0.1:$port/metrics | head
then: POPID_DB=$POPID_DB $popid audit log $pid    # who read that person, when, which fields, why
MSG
exec "$popid" serve --listen "127.0.0.1:$port"
