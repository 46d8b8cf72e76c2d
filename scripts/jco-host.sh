#!/usr/bin/env bash
# Runs the guest component outside wasmtime: jco transpiles it to an ES
# module, and Node calls it with the in-memory JavaScript host in
# tests/jco/host (for the host with real I/O, see scripts/node-host.sh).
#   scripts/jco-host.sh GUEST.wasm OUT_DIR
set -euo pipefail
source "$(dirname "$0")/jco-tools.sh"
wasm="$1"
out="$2"
host="$root/tests/jco/host"
maps=()
for iface in clock http loopback notify process storage; do
  maps+=(--map "codex:auth/$iface=$host/$iface.js")
done
# The output must sit below node_modules' parent so the shim resolves.
work="$tools/out/$(basename "$out")"
rm -rf "$work"
"$tools/node_modules/.bin/jco" transpile "$wasm" -o "$work" --name guest --quiet "${maps[@]}" >&2
echo '{"type":"module"}' > "$work/package.json"
env -u OPENAI_API_KEY node "$root/tests/jco/run.mjs" "$work/guest.js"
