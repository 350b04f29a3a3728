#!/usr/bin/env bash
# Cross-check the instance emulator with ServiceNow's official Python client (pysnc, from PyPI).
# Creates a virtual environment, starts the emulator (healthy scenario, TLS, generated CA) on a free
# loopback port, runs tests/pysnc/crosscheck.py against it and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
venv="${PYSNC_VENV:-$target_dir/pysnc-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "pysnc==1.2.1" "requests-oauthlib>=1.3"

cargo build --quiet --locked --example emulate
work="$(mktemp -d)"
"$target_dir/debug/examples/emulate" --scenario healthy --port 0 --ca-out "$work/ca.pem" \
    >"$work/out" 2>"$work/err" &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

url=""
for _ in $(seq 1 100); do
    url="$(sed -n '1s/^listening on //p' "$work/out" 2>/dev/null || true)"
    [ -n "$url" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "pysnc.sh: the emulator did not start" >&2
    cat "$work/err" >&2
    exit 1
fi
echo "pysnc.sh: emulator at $url"

# Emulator-only test credentials, documented in fixtures/instances/README.md.
SN_INSTANCE="$url" SN_CA="$work/ca.pem" REQUESTS_CA_BUNDLE="$work/ca.pem" \
SN_USER="admin" SN_PASSWORD="Emu-Admin-2026!" \
SN_INT_USER="m365.integration" SN_INT_PASSWORD="Emu-Integration-2026!" \
SN_CLIENT_ID="8f2e4a6c1b3d4e5f9a0b2c4d6e8f1a3b" SN_CLIENT_SECRET="Emu-Connector-Secret-7Qk3ZpX9" \
    "$venv/bin/python" tests/pysnc/crosscheck.py
