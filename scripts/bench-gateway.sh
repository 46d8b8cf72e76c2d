#!/usr/bin/env bash
# The gateway's hop against nginx's, in one run on this machine:
#   scripts/bench-gateway.sh [SECONDS]
# One upstream for all three paths: nginx answering a small Responses stream
# (`POST /backend-api/codex/responses`). Each path is loaded with wrk (POST,
# keep-alive) at 1 connection and at 32:
#   direct   wrk -> upstream
#   nginx    wrk -> nginx as a plain reverse proxy (keep-alive upstream) -> upstream
#   gateway  wrk -> `codex-auth serve` (release build; local key; one
#            account whose token is fresh, so nothing is refreshed) -> upstream
# Prints each path's p50 and throughput, the hop each proxy adds, and the
# gateway's against nginx's. Installs nginx-light and wrk (Debian) when
# missing; builds the release binary when it is older than the sources.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"

need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends "${need[@]}" >&2
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
(cd "$root" && cargo build --release -q -p codex-auth-cli)
bin="$root/target/release/codex-auth"

work="$(mktemp -d)"
pids=()
cleanup() {
  # The nginx masters run in the foreground of these jobs (daemon off).
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port="$(free_port)"
proxy_port="$(free_port)"

# nginx, run by hand: its own prefix, pid and temp paths, in the foreground
# of a background job.
start_nginx() { # NAME SERVER-BLOCK
  local dir="$work/$1"
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  $2
}
EOF
  "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" &
  pids+=($!)
}

event='event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_1","status":"completed"}}\n\n'
start_nginx upstream "server {
    listen 127.0.0.1:$up_port;
    location /backend-api/codex/responses {
      default_type text/event-stream;
      add_header x-codex-primary-used-percent 10;
      add_header x-codex-primary-window-minutes 300;
      return 200 '$(printf "$event")';
    }
  }"
start_nginx proxy "upstream codex { server 127.0.0.1:$up_port; keepalive 64; }
  server {
    listen 127.0.0.1:$proxy_port;
    location / {
      proxy_pass http://codex;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering off;
    }
  }"

# A vault with one account whose token is fresh for a day.
home="$work/home"
mkdir -p "$home"
chmod 700 "$home"
python3 - "$home/auth.json" <<'EOF'
import base64, json, sys, time
def b64(v): return base64.urlsafe_b64encode(json.dumps(v).encode()).rstrip(b"=").decode()
def jwt(claims): return f"{b64({'alg': 'none'})}.{b64(claims)}.c2ln"
exp = int(time.time()) + 86400
auth = {"https://api.openai.com/auth": {"chatgpt_account_id": "acct-bench", "chatgpt_plan_type": "pro"}}
tokens = {"id_token": jwt({"exp": exp, "email": "bench@example.com", **auth}),
          "access_token": jwt({"exp": exp, **auth}), "refresh_token": "rt-bench", "account_id": "acct-bench"}
with open(sys.argv[1], "w") as f:
    json.dump({"OPENAI_API_KEY": None, "tokens": tokens, "last_refresh": "2026-12-01T00:00:00Z"}, f)
EOF
chmod 600 "$home/auth.json"
export CODEX_AUTH_HOME="$home"
key="$("$bin" serve --print-key)"
"$bin" serve --port 0 --upstream "http://127.0.0.1:$up_port/backend-api/codex" \
  >"$work/serve.out" 2>/dev/null &
pids+=($!)

wait_for() { # URL
  for _ in $(seq 1 200); do
    curl -s -o /dev/null -X POST "$1" && return 0
    sleep 0.05
  done
  echo "bench-gateway.sh: $1 did not answer" >&2
  exit 1
}
for _ in $(seq 1 200); do [ -s "$work/serve.out" ] && break; sleep 0.05; done
gateway="http://$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["listening"])' "$work/serve.out")"
wait_for "http://127.0.0.1:$up_port/backend-api/codex/responses"
wait_for "http://127.0.0.1:$proxy_port/backend-api/codex/responses"

cat >"$work/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"gpt-5.1-codex","input":"hi","stream":true}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["session_id"] = "bench"
EOF

# wrk's p50 (us) and requests per second.
load() { # URL CONNECTIONS
  local threads=1
  [ "$2" -gt 1 ] && threads=2
  wrk -t"$threads" -c"$2" -d"${seconds}s" --latency -s "$work/post.lua" "$1" >"$work/wrk.out"
  python3 - "$work/wrk.out" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
if re.search(r"Non-2xx or 3xx responses: (\d+)", text):
    sys.exit("bench-gateway.sh: non-2xx answers:\n" + text)
def us(v, unit): return float(v) * {"us": 1, "ms": 1000, "s": 1e6}[unit]
p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)", text, re.M)
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
print(f"{us(*p50.groups()):.0f} {float(rps.group(1)):.0f}")
EOF
}

for path in direct nginx gateway; do
  url="http://127.0.0.1:$up_port/backend-api/codex/responses"
  [ "$path" = nginx ] && url="http://127.0.0.1:$proxy_port/backend-api/codex/responses"
  [ "$path" = gateway ] && url="$gateway/backend-api/codex/responses"
  load "$url" 1 >/dev/null # warm-up
  read -r p50_1 rps_1 < <(load "$url" 1)
  read -r p50_32 rps_32 < <(load "$url" 32)
  printf '%s %s %s %s %s\n' "$path" "$p50_1" "$rps_1" "$p50_32" "$rps_32"
done >"$work/results"

python3 - "$work/results" "$seconds" <<'EOF'
import sys
rows = {r[0]: list(map(float, r[1:])) for r in (l.split() for l in open(sys.argv[1]))}
d, n, g = rows["direct"], rows["nginx"], rows["gateway"]
print(f"wrk, {sys.argv[2]} s per run; p50 in us, throughput in requests/s")
print("| path | p50, 1 connection | req/s, 1 connection | p50, 32 connections | req/s, 32 connections |")
print("|---|---:|---:|---:|---:|")
for name, r in (("direct (baseline)", d), ("nginx reverse proxy", n), ("codex-auth serve", g)):
    print(f"| {name} | {r[0]:.0f} | {r[1]:.0f} | {r[2]:.0f} | {r[3]:.0f} |")
hop_n, hop_g = n[0] - d[0], g[0] - d[0]
print()
print(f"added p50 at 1 connection: nginx {hop_n:.0f} us, gateway {hop_g:.0f} us: "
      f"{hop_g / max(hop_n, 1):.2f}x nginx's hop (goal: at most 2x)")
print(f"throughput at 32 connections: gateway {g[3]:.0f} / nginx {n[3]:.0f} req/s: "
      f"{g[3] / n[3]:.2f}x nginx's (goal: at least 0.6x)")
EOF
