#!/usr/bin/env bash
# Installs the real services the tests start (Debian packages): a Secret
# Service (gnome-keyring on a D-Bus session bus, libsecret's secret-tool as a
# second client), PostgreSQL, and openssl (throwaway certificates for the TLS
# test). Each test's script (secret-service.sh, postgres.sh) starts a private
# instance; this only installs what is missing.
set -euo pipefail
# Tests start services in parallel: one install at a time.
exec 9>"${TMPDIR:-/tmp}/codex-auth-install.lock"
flock 9
need=()
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v dbus-daemon >/dev/null || need+=(dbus-daemon)
command -v secret-tool >/dev/null || need+=(libsecret-tools)
command -v openssl >/dev/null || need+=(openssl)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}"
fi
