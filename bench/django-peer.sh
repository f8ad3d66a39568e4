#!/usr/bin/env bash
# Runs the Django Channels peer (/work/shared/peers/django_channels) so parlor can be measured
# side by side with it, on the same fixture format and the same core budget.
#
#   bench/django-peer.sh setup             venv + pinned deps (idempotent)
#   bench/django-peer.sh start DIR PORT N  fresh SQLite + N-conversation fixture in DIR, daphne on
#                                          127.0.0.1:PORT; writes DIR/{fixture.json,daphne.pid,daphne.log}
#   bench/django-peer.sh stop DIR
#
# Env: PEERS (default /work/shared/peers), CHANNEL_LAYER (memory|redis, default memory),
#      DAPHNE_CPU (default 0), DAPHNE_ACCESS_LOG=1 to keep the access log (README's stock setup).
# Clients must send an Origin header whose host is 127.0.0.1 or localhost (e.g.
# "Origin: http://127.0.0.1:PORT"): the peer wraps its routes in AllowedHostsOriginValidator,
# which answers 403 to a handshake without Origin.
set -euo pipefail

PEERS=${PEERS:-$(cd "$(dirname "$0")/../.." && pwd)/shared/peers}
APP=$PEERS/django_channels
VENV=$PEERS/.venv
# The peer tree is shared; keep __pycache__ out of it.
export PYTHONDONTWRITEBYTECODE=1

die() { echo "django-peer: $*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Guards against acting on a recycled pid.
is_daphne() { kill -0 "$1" 2>/dev/null && grep -qa daphne "/proc/$1/cmdline"; }

setup() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  # -c pins the transitive deps to the peer's own pip freeze, so reruns get the same stack.
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    -r "$PEERS/requirements.txt" -c "$PEERS/constraints.txt"
}

start() {
  [ $# -eq 3 ] || die "usage: start DIR PORT N"
  local dir=$1 port=$2 n=$3 pid
  [ -x "$VENV/bin/daphne" ] || die "no venv at $VENV; run setup first"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)  # manage.py and daphne run from $APP
  if [ -f "$dir/daphne.pid" ] && is_daphne "$(cat "$dir/daphne.pid")"; then
    die "daphne already running for $dir (pid $(cat "$dir/daphne.pid"))"
  fi
  # Otherwise the readiness poll below would mistake another server for ours.
  port_open "$port" && die "port $port is already in use"

  rm -f "$dir"/db.sqlite3* "$dir/fixture.json" "$dir/daphne.log"
  export DJANGO_DB_PATH=$dir/db.sqlite3 CHANNEL_LAYER=${CHANNEL_LAYER:-memory}
  cd "$APP"
  "$VENV/bin/python" manage.py migrate -v 0
  "$VENV/bin/python" manage.py make_fixture "$n" "$dir/fixture.json" --port "$port" >/dev/null

  # Daphne has no --no-access-log: the log is on whenever verbosity >= 1, so -v 0 is the way
  # to switch it off. Django's LOGGING still sends WARNING+ (tracebacks) to daphne.log.
  local log=(-v 0)
  [ "${DAPHNE_ACCESS_LOG:-0}" = 1 ] && log=(-v 1 --access-log "$dir/access.log")
  # taskset and nohup both exec, so $! is daphne's own pid (the one whose RSS we read).
  nohup taskset -c "${DAPHNE_CPU:-0}" "$VENV/bin/daphne" "${log[@]}" \
    -b 127.0.0.1 -p "$port" core.asgi:application >"$dir/daphne.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/daphne.pid"

  # Daphne binds only after Django has loaded, so an open port means ready.
  for _ in $(seq 300); do
    port_open "$port" && { echo "daphne pid $pid on 127.0.0.1:$port, fixture $dir/fixture.json"; return; }
    kill -0 "$pid" 2>/dev/null || { cat "$dir/daphne.log" >&2; rm -f "$dir/daphne.pid"; die "daphne exited"; }
    sleep 0.1
  done
  kill "$pid"; rm -f "$dir/daphne.pid"
  die "daphne did not listen on $port within 30 s"
}

stop() {
  [ $# -eq 1 ] || die "usage: stop DIR"
  local pidf=$1/daphne.pid pid
  [ -f "$pidf" ] || { echo "django-peer: nothing running for $1"; return 0; }
  pid=$(cat "$pidf")
  if is_daphne "$pid"; then
    kill "$pid"
    # Daphne gives open sockets up to --application-close-timeout (10 s) to shut down.
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    is_daphne "$pid" && kill -9 "$pid"
  fi
  rm -f "$pidf"
}

cmd=${1:-}
shift || true
case $cmd in
  setup | start | stop) "$cmd" "$@" ;;
  *) die "usage: $0 setup | start DIR PORT N | stop DIR" ;;
esac
