#!/usr/bin/env bash
# Installs the real Codex CLI (npm @openai/codex) into .tools/ and runs the
# opt-in tests that check codex-auth's auth.json against it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .tools/codex/node_modules/.bin/codex ]; then
  mkdir -p .tools/codex
  (cd .tools/codex && npm install --no-audit --no-fund @openai/codex >/dev/null)
fi
CODEX_AUTH_CODEX_BIN="$PWD/.tools/codex/node_modules/.bin/codex" \
  cargo test -p codex-auth-cli --test e2e codex_peer -- --ignored
