#!/usr/bin/env bash
# Runs the guest component outside wasmtime: jco transpiles it to an ES
# module, and Node calls it with the JavaScript host in tests/jco/host.
#   scripts/jco-host.sh GUEST.wasm OUT_DIR
# Installs jco and the WASI shim into .tools/jco (ignored) on first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
wasm="$1"
out="$2"
tools="$root/.tools/jco"
if [ ! -x "$tools/node_modules/.bin/jco" ] || [ ! -d "$tools/node_modules/@bytecodealliance/preview2-shim" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent \
    @bytecodealliance/jco@1.35.0 @bytecodealliance/preview2-shim@0.26.1 >&2
fi
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
