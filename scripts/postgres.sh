#!/usr/bin/env bash
# A real PostgreSQL server for tests: a cluster in a temp dir, listening on
# 127.0.0.1:PORT only, with a database `codex_auth` and a password.
#   scripts/postgres.sh PORT [tls]
# Prints `DATABASE_URL=postgres://...` on stdout when it accepts
# connections. With `tls`, the server has a throwaway certificate for
# 127.0.0.1, accepts TCP connections only over TLS, and a second line
# `TLS_CERT=path` names the certificate. Then it reads commands on stdin,
# one a line, answering each:
#   stop   -> stops the server (immediate mode), prints `stopped`
#   start  -> starts it again, prints `started` once it accepts connections
# and stops the server and removes the cluster when stdin closes.
# Installs what is missing through install-test-services.sh. As root, the server runs
# as the `postgres` user (initdb refuses root).
set -euo pipefail
port="$1"
tls="${2:-}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  "$(dirname "$0")/install-test-services.sh" >&2
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
fi
dir="$(mktemp -d)"
# Every directory on the way to the cluster must be traversable by its owner.
chmod 711 "$dir"
as_owner=()
if [ "$(id -u)" = 0 ]; then
  as_owner=(runuser -u postgres --)
  chown postgres "$dir"
fi
data="$dir/data"
password="fleet-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$password" >"$dir/pw"
[ "$(id -u)" = 0 ] && chown postgres "$dir/pw"
pg() { "${as_owner[@]}" "$@"; }
pg "$bin/initdb" -D "$data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pw" -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
options="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off"
if [ "$tls" = tls ]; then
  command -v openssl >/dev/null || "$(dirname "$0")/install-test-services.sh" >&2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE \
    -keyout "$dir/server.key" -out "$dir/server.crt" 2>"$dir/openssl.log" || { cat "$dir/openssl.log" >&2; exit 1; }
  chmod 600 "$dir/server.key"
  [ "$(id -u)" = 0 ] && chown postgres "$dir/server.key" "$dir/server.crt"
  # TCP only with TLS: a plaintext connection is refused by the server.
  printf 'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n' >"$data/pg_hba.conf"
  options="$options -c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
fi
start() {
  pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
}
stop() {
  pg "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
}
cleanup() {
  stop
  rm -rf "$dir"
}
trap cleanup EXIT
start
PGPASSWORD="$password" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc 'CREATE DATABASE codex_auth' >/dev/null
echo "DATABASE_URL=postgres://postgres:$password@127.0.0.1:$port/codex_auth"
[ "$tls" = tls ] && echo "TLS_CERT=$dir/server.crt"
while read -r command; do
  case "$command" in
    stop) stop; echo stopped ;;
    start) start; echo started ;;
    *) echo "unknown command: $command" >&2 ;;
  esac
done
