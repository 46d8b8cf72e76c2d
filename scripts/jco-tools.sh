# Sourced by the scripts that run the component under Node: installs the
# pinned jco and WASI shim of node-host/package.json into .tools/node-host
# (ignored) on first use and sets `tools` to that folder. Concurrent callers
# (tests run in parallel) wait for one install.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/node-host"
mkdir -p "$tools"
exec 9>"$tools/.install.lock"
flock 9
if [ ! -x "$tools/node_modules/.bin/jco" ] || [ ! -d "$tools/node_modules/@bytecodealliance/preview2-shim" ] \
  || ! cmp -s "$root/node-host/package.json" "$tools/package.json"; then
  cp "$root/node-host/package.json" "$tools/package.json"
  npm install --prefix "$tools" --no-audit --no-fund --silent >&2
fi
flock -u 9
exec 9>&-
