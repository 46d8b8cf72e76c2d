#!/usr/bin/env bash
# Runs an OpenAI SDK, as a user would, against the gateway's /v1 with an
# API key (the gateway's local key):
#   scripts/openai-sdk.sh js|python BASE_URL KEY
# Installs the pinned SDK into .tools/ (ignored) on first use: the
# JavaScript SDK from npm, the Python SDK from PyPI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
language="$1"
shift
case "$language" in
  js)
    tools="$root/.tools/openai-sdk"
    if [ ! -d "$tools/node_modules/openai" ]; then
      mkdir -p "$tools"
      npm install --prefix "$tools" --no-audit --no-fund --silent openai@6.30.1 >&2
    fi
    NODE_PATH="$tools/node_modules" exec node "$root/tests/openai-sdk/run.mjs" "$@"
    ;;
  python)
    tools="$root/.tools/openai-python"
    if [ ! -d "$tools/openai" ]; then
      mkdir -p "$tools"
      python3 -m pip install --quiet --disable-pip-version-check --no-input --target "$tools" openai==3.57.0 >&2
    fi
    PYTHONPATH="$tools" exec python3 "$root/tests/openai-sdk/run.py" "$@"
    ;;
  *)
    echo "usage: scripts/openai-sdk.sh js|python BASE_URL KEY" >&2
    exit 2
    ;;
esac
