#!/usr/bin/env bash
# Drives the dashboard in headless Chromium (Debian's package) through
# playwright-core (npm, pinned), as a person would see it:
#   scripts/chromium.sh SCRIPT ARGS...
# Installs Debian's chromium when it is missing, and playwright-core into
# .tools/playwright (ignored) on first use. Prints what the script prints.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v chromium >/dev/null; then
  # Tests run in parallel: one install at a time.
  exec 9>"${TMPDIR:-/tmp}/codex-auth-install.lock"
  flock 9
  if ! command -v chromium >/dev/null; then
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium >&2
  fi
  exec 9>&-
fi
tools="$root/.tools/playwright"
if [ ! -d "$tools/node_modules/playwright-core" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent playwright-core@1.57.0 >&2
fi
NODE_PATH="$tools/node_modules" CHROMIUM="$(command -v chromium)" exec node "$@"
