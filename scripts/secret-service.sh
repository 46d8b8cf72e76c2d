#!/usr/bin/env bash
# A real Secret Service for tests: a private D-Bus session bus and
# gnome-keyring-daemon on it, with an unlocked login keyring in a temp dir.
# Prints `DBUS_SESSION_BUS_ADDRESS=...` on stdout, then runs until its
# standard input closes (the test process ends), and removes everything.
# Installs what is missing through install-test-services.sh.
set -euo pipefail
"$(dirname "$0")/install-test-services.sh" >&2
dir="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
# The keyrings live in the temp dir, never in the user's own.
export HOME="$dir" XDG_DATA_HOME="$dir/data" XDG_RUNTIME_DIR="$dir/run" XDG_CONFIG_HOME="$dir/config"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
mkdir -m 0700 "$XDG_RUNTIME_DIR"
dbus-daemon --session --nofork --nopidfile --print-address=3 3>"$dir/address" &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/address" ] && break; sleep 0.05; done
export DBUS_SESSION_BUS_ADDRESS="$(head -n1 "$dir/address")"
# --unlock reads the login keyring's password from stdin, creating the
# keyring (and making it the default collection) when there is none.
printf 'codex-auth-test' | gnome-keyring-daemon --foreground --unlock --components=secrets >"$dir/keyring.log" 2>&1 &
pids+=($!)
# Ready when the service answers on the bus.
for _ in $(seq 100); do
  # (NameHasOwner does not start a second daemon by D-Bus activation.)
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    break
  fi
  sleep 0.05
done
echo "DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS"
cat >/dev/null || true
