#!/usr/bin/env bash
# `make run` after installing: migrate, seed the demo workspace, start the web server on
# HOST:PORT (default 127.0.0.1:5000) and, when REDIS_URL is set and Redis answers, an RQ
# worker in the background. Stopping the server (Ctrl-C) stops the worker too.
#
# Without REDIS_URL (the embedded default) jobs run in-process and no worker is started.
# The database is whatever the configuration says: the SQLite file under instance/ unless
# DATABASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
py="$VENV/bin/python"
flask=("$VENV/bin/flask" --app wsgi)

say() { printf '==> %s\n' "$*"; }

# Refuse early, with a useful message, when the port is taken.
if "$py" - "$HOST" "$PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.settimeout(0.5)
sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
PY
then
  echo "run: something is already listening on $HOST:$PORT; stop it or use: make run PORT=5001" >&2
  exit 1
fi

worker=0
if [[ -n "${REDIS_URL:-}" ]]; then
  if "$py" -c 'import os, redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=2).ping()' 2>/dev/null; then
    worker=1
  else
    echo "run: Redis does not answer at REDIS_URL=$REDIS_URL; running jobs in-process instead" >&2
    unset REDIS_URL
  fi
fi

mkdir -p instance
say "migrating the database"
"${flask[@]}" db upgrade
say "seeding the demo workspace"
signins=$("${flask[@]}" seed demo)

pids=()
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((worker)); then
  say "starting an RQ worker (REDIS_URL=$REDIS_URL)"
  "${flask[@]}" worker &
  pids+=("$!")
  # The nightly jobs (public-pool rules) come from RQ's cron scheduler.
  "$VENV/bin/rq" cron workers/cron.py -u "$REDIS_URL" &
  pids+=("$!")
fi

# Both run in the background so this script can react to Ctrl-C / TERM at once and stop them.
"${flask[@]}" run --host "$HOST" --port "$PORT" --no-reload &
server=$!
pids+=("$server")

# Print the banner once the server answers, so it is not buried in start-up logs.
url_host="$HOST"
[[ "$HOST" == *:* ]] && url_host="[$HOST]"
url="http://$url_host:$PORT/"
for _ in $(seq 1 100); do
  kill -0 "$server" 2>/dev/null || break
  if "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "login", timeout=1)' "$url" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
if kill -0 "$server" 2>/dev/null; then
  cat <<MSG

    Taizhang is running at $url   (Ctrl-C stops it)
    Jobs: $( ((worker)) && echo "RQ worker on $REDIS_URL" || echo "in-process (no REDIS_URL)")
$(printf '%s\n' "$signins" | sed 's/^/    /')

MSG
fi

status=0
wait "$server" || status=$?
exit "$status"
