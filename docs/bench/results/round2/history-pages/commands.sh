#!/bin/bash
# One server build on the 5,000,000-message fixture (bench/fill_sqlite.py), pinned to core 0, the
# generator on core 1: 500 warm-up requests, then 3,000 pages of 50, newest and 50 before seq
# 250,000, with the server histogram read before and after each (quantiles.py reads two).
# usage: hist.sh BINDIR LABEL [perf]
set -u
export PARLOR_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789
B=$1; L=$2
OUT=/work/reads/out/$L; mkdir -p $OUT
PORT=18093
PARLOR_LOG=warn taskset -c 0 $B/parlor serve --bind 127.0.0.1:$PORT --data-dir /work/reads/d5m > $OUT/server.log 2>&1 &
SP=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
URL=http://127.0.0.1:$PORT
taskset -c 1 $B/parlor-bench requests --json --user 1 --path "/api/chat/conversations/1/messages?limit=50" --count 500 --url $URL --server-pid $SP > /dev/null
curl -s $URL/metrics | grep parlor_history_page_seconds > $OUT/hist-0.txt
if [ "${3:-}" = perf ]; then perf stat -e context-switches,task-clock -p $SP -o $OUT/stat.txt & PS=$!; sleep 0.5; fi
taskset -c 1 $B/parlor-bench requests --json --user 1 --path "/api/chat/conversations/1/messages?limit=50" --count 3000 --url $URL --server-pid $SP > $OUT/history-newest.json
[ "${3:-}" = perf ] && { kill -INT $PS; wait $PS; }
curl -s $URL/metrics | grep parlor_history_page_seconds > $OUT/hist-1.txt
taskset -c 1 $B/parlor-bench requests --json --user 1 --path "/api/chat/conversations/1/messages?limit=50&before=250000" --count 3000 --url $URL --server-pid $SP > $OUT/history-deep.json
curl -s $URL/metrics | grep parlor_history_page_seconds > $OUT/hist-2.txt
kill -TERM $SP; wait $SP
