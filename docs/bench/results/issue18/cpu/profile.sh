#!/usr/bin/env bash
# bench18: cpu-clock profile of the server during 10 s of 500 DMs at 500 msg/s on PostgreSQL.
set -uo pipefail
bin=$1 out=$2
export PARLOR_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789
PG_ADMIN=postgres://postgres@127.0.0.1:5432/test
WORK=$(mktemp -d /tmp/b18prof.XXXX); ulimit -n 20000
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
psql -q $PG_ADMIN -c 'DROP DATABASE IF EXISTS parlor_cpu_b18' -c 'CREATE DATABASE parlor_cpu_b18' 2>/dev/null
env PARLOR_LOG=warn PARLOR_RATE_LIMITS__SENDS__PER_MINUTE=0 PARLOR_RATE_LIMITS__CONNECTS__PER_MINUTE=0 \
  PARLOR_RATE_LIMITS__MAX_CONNECTIONS_PER_USER=0 PARLOR_DATABASE_URL=${PG_ADMIN%/*}/parlor_cpu_b18 "$bin"/parlor serve --bind 127.0.0.1:$port --data-dir $WORK/d >$WORK/s.log 2>&1 &
sp=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done
/work/targets/b18-bin/after/parlor-bench --json load --rooms 500 --room-size 2 --rate 500 --duration 10 --url http://127.0.0.1:$port --server-pid $sp >$WORK/r.json 2>$WORK/gen.err &
gp=$!
until grep -q '^connected' $WORK/gen.err || ! kill -0 $gp 2>/dev/null; do sleep 0.05; done
perf record -q -F 999 -e cpu-clock -p $sp -o $out -- sleep 10 2>/dev/null
wait $gp; kill $sp; wait $sp 2>/dev/null
tail -c 300 $WORK/r.json; echo
rm -rf $WORK
