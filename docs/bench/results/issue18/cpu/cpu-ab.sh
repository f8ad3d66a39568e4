#!/usr/bin/env bash
# bench18: server CPU seconds (utime+stime, whole life: start, fixture, 10 s of load) per build,
# the builds alternating; PostgreSQL's own backends' CPU not counted.
set -uo pipefail
BEFORE=$1 AFTER=$2 RATE=$3 ROUNDS=$4 OUT=$5
export PARLOR_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789
PG_ADMIN=postgres://postgres@127.0.0.1:5432/test
WORK=$(mktemp -d /tmp/b18cpu.XXXX); ulimit -n 20000; mkdir -p $OUT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
for round in $(seq $ROUNDS); do for backend in ${BACKENDS:-sqlite postgres}; do for build in before after; do
  if [ $build = before ]; then bin=$BEFORE; else bin=$AFTER; fi
  port=$(free_port); dir=$WORK/d-$port; mkdir -p $dir
  if [ $backend = postgres ]; then
    psql -q $PG_ADMIN -c 'DROP DATABASE IF EXISTS parlor_cpu_b18' -c 'CREATE DATABASE parlor_cpu_b18' 2>/dev/null
    env=(PARLOR_DATABASE_URL=${PG_ADMIN%/*}/parlor_cpu_b18)
  else env=(PARLOR_SQLITE_DURABILITY=full); fi
  env PARLOR_LOG=warn PARLOR_RATE_LIMITS__SENDS__PER_MINUTE=0 PARLOR_RATE_LIMITS__CONNECTS__PER_MINUTE=0 \
    PARLOR_RATE_LIMITS__MAX_CONNECTIONS_PER_USER=0 "${env[@]}" "$bin"/parlor serve --bind 127.0.0.1:$port --data-dir $dir >$WORK/s.log 2>&1 &
  sp=$!
  for _ in $(seq 100); do curl -fs http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
  "$AFTER"/parlor-bench --json load --rooms 500 --room-size 2 --rate $RATE --duration 10 --url http://127.0.0.1:$port --server-pid $sp > $OUT/$build-$backend-$RATE-$round.json 2>$WORK/gen.err &
  gp=$!; t0=
  while kill -0 $gp 2>/dev/null; do
    if [ -z "$t0" ] && grep -q '^connected' $WORK/gen.err; then t0=$(awk '{print $14+$15}' /proc/$sp/stat); fi
    sleep 0.05
  done
  wait $gp
  ticks=$(awk '{print $14+$15}' /proc/$sp/stat)
  kill $sp; wait $sp 2>/dev/null
  python3 -c "
import json
r=json.loads(open('$OUT/$build-$backend-$RATE-$round.json').read().strip().splitlines()[-1])
print('$build $backend $RATE r$round', 'load-phase cpu %.2f s, ' % (($ticks-${t0:-0})/100) + 'server cpu %.2f s (fixture + load), %d acked, p50 %.1f p99 %.1f lost %d' % ($ticks/100, r['acknowledged'], r['latency']['p50'], r['latency']['p99'], r['lost']), '| load', open('/proc/loadavg').read().split()[0])
" | tee -a $OUT/summary.txt
  rm -rf $dir
done; done; done
rm -rf $WORK
