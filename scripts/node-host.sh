#!/usr/bin/env bash
# Builds the Node host's guest: transpiles a codex-auth component with jco,
# its imports mapped to node-host/imports, into OUT_DIR.
#   scripts/node-host.sh GUEST.wasm OUT_DIR
# OUT_DIR must sit below .tools/node-host (where the WASI shim is installed)
# or below a folder whose node_modules has it.
set -euo pipefail
source "$(dirname "$0")/jco-tools.sh"
wasm="$1"
out="$2"
imports="$root/node-host/imports"
maps=(--map "wasi:cli/environment=$imports/environment.js")
for iface in clock http loopback notify process storage; do
  maps+=(--map "codex:auth/$iface=$imports/$iface.js")
done
rm -rf "$out"
"$tools/node_modules/.bin/jco" transpile "$wasm" -o "$out" --name guest --quiet "${maps[@]}" >&2
echo '{"type":"module"}' > "$out/package.json"
