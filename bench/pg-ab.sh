#!/usr/bin/env bash
# Two builds side by side (issue 22, target 1): the DM load at fixed rates on SQLite FULL and on
# PostgreSQL, the builds alternating, a fresh server (and database) per run, the second build's
# generator for all. docs/benchmarks.md quotes its summary.
#
#   bench/pg-ab.sh BEFORE_DIR AFTER_DIR [RATES] [ROUNDS]   # dirs holding parlor and parlor-bench
#
# Needs PostgreSQL at $PARLOR_BENCH_POSTGRES_URL (default the local `test` server; a database
# `parlor_ab` is recreated per run).
set -uo pipefail
BEFORE=$1 AFTER=$2 RATES=${3:-500,1000} ROUNDS=${4:-2}
SECRET=bench-secret-of-at-least-32-bytes-0123456789
export PARLOR_JWT_SECRET=$SECRET
PG_ADMIN=${PARLOR_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${OUT:-$(dirname "$0")/../docs/bench/results/issue22/ab}; mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/pgw-ab.XXXX)
ulimit -n 20000
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run() { # build backend rate round
  local build=$1 backend=$2 rate=$3 round=$4 port dir sp env=() bin
  if [ "$build" = before ]; then bin=$BEFORE; else bin=$AFTER; fi
  port=$(free_port); dir=$WORK/d-$port; mkdir -p $dir
  if [ $backend = postgres ]; then
    psql -q $PG_ADMIN -c 'DROP DATABASE IF EXISTS parlor_ab' -c 'CREATE DATABASE parlor_ab'
    env=(PARLOR_DATABASE_URL=${PG_ADMIN%/*}/parlor_ab)
  else env=(PARLOR_SQLITE_DURABILITY=full); fi
  env PARLOR_LOG=warn PARLOR_RATE_LIMITS__SENDS__PER_MINUTE=0 PARLOR_RATE_LIMITS__CONNECTS__PER_MINUTE=0 \
    PARLOR_RATE_LIMITS__MAX_CONNECTIONS_PER_USER=0 "${env[@]}" "$bin"/parlor serve --bind 127.0.0.1:$port --data-dir $dir >$WORK/s-$port.log 2>&1 &
  sp=$!
  for _ in $(seq 100); do curl -fs http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
  "$AFTER"/parlor-bench --json load --rooms 500 --room-size 2 --rate $rate --duration 10 --url http://127.0.0.1:$port --server-pid $sp > $OUT/$build-$backend-$rate-$round.json 2>/dev/null
  kill $sp; wait $sp 2>/dev/null
  python3 -c "
import json
r=json.loads(open('$OUT/$build-$backend-$rate-$round.json').read().strip().splitlines()[-1])
print('$build $backend $rate r$round', 'p50 %.1f p99 %.1f cpu %d%% ack %d/%d lost %d' % (r['latency']['p50'], r['latency']['p99'], r['server']['cpu_percent'], r['acknowledged'], r['sent'], r['lost']))
" | tee -a $OUT/summary.txt
}
uptime | tee -a $OUT/summary.txt
for round in $(seq "$ROUNDS"); do
  for rate in ${RATES//,/ }; do
    for build in before after; do
      for backend in sqlite postgres; do run $build $backend $rate $round; done
    done
  done
done
uptime | tee -a $OUT/summary.txt
rm -rf $WORK
