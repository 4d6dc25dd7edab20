#!/usr/bin/env bash
# popid's first command: installs what is missing, builds, creates a demo registry on the embedded
# default (SQLite, in ./demo) with a few thousand synthetic people, and walks through the CLI on
# it. Run it again at any time; it starts from a fresh demo registry.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target popid >/dev/null
exec scripts/tour.sh build/popid demo
