#!/usr/bin/env bash
# Installs the Debian packages popid's build and tests need, only when some are missing.
# Called by scripts/run.sh and scripts/test.sh, so a fresh Debian 12 machine needs nothing by hand.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config clang clang-format
  libsqlite3-dev sqlite3
  libjansson-dev libsodium-dev libutf8proc-dev libcjose-dev libssl-dev libmicrohttpd-dev
  libcsv-dev libcmocka-dev jq curl
  liboath-dev libqrencode-dev libcurl4-openssl-dev libpng-dev
  zbar-tools  # zbarimg: tests/cli/qr_test.sh decodes the identity QR PNG
  python3     # tests/cli/otp_receiver.py: the webhook receiver of tests/cli/otp_test.sh
)
# Extra groups are asked for by name (e.g. "bench" for the benchmark peers).
for group in "$@"; do
  case "$group" in
    bench) pkgs+=(hyperfine nginx-light wrk postgresql time bc) ;;
    *) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
