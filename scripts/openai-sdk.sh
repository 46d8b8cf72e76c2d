#!/usr/bin/env bash
# Runs the OpenAI JavaScript SDK, as a user would, against a Responses base
# URL (the gateway's /v1) with an API key (the gateway's local key):
#   scripts/openai-sdk.sh BASE_URL KEY
# Installs the pinned SDK into .tools/openai-sdk (ignored) on first use.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools/openai-sdk"
if [ ! -d "$tools/node_modules/openai" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent openai@6.30.1 >&2
fi
NODE_PATH="$tools/node_modules" node "$root/tests/openai-sdk/run.mjs" "$@"
