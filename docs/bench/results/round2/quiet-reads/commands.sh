#!/bin/bash
# Quiet re-measurement of history pages at 5 M messages (target 5) and search at 1 M (target 8).
set -u
export PARLOR_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789
B=/work/bin/quiet
OUT=/work/reads/out; mkdir -p $OUT
PORT=18093
PARLOR_LOG=warn taskset -c 0 $B/parlor serve --bind 127.0.0.1:$PORT --data-dir /work/reads/d5m > $OUT/server5m.log 2>&1 &
SP=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
URL=http://127.0.0.1:$PORT
curl -s $URL/metrics | grep parlor_history_page_seconds > $OUT/hist-0.txt
taskset -c 1 $B/parlor-bench requests --json --user 1 --path "/api/chat/conversations/1/messages?limit=50" --count 2000 --url $URL --server-pid $SP > $OUT/history-newest.json
curl -s $URL/metrics | grep parlor_history_page_seconds > $OUT/hist-1.txt
taskset -c 1 $B/parlor-bench requests --json --user 1 --path "/api/chat/conversations/1/messages?limit=50&before=250000" --count 2000 --url $URL --server-pid $SP > $OUT/history-deep.json
curl -s $URL/metrics | grep parlor_history_page_seconds > $OUT/hist-2.txt
kill -TERM $SP; wait $SP
PORT=18094
PARLOR_LOG=warn taskset -c 0 $B/parlor serve --bind 127.0.0.1:$PORT --data-dir /work/reads/d1m > $OUT/server1m.log 2>&1 &
SP=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
taskset -c 1 python3 /work/main/bench/search.py --url http://127.0.0.1:$PORT --secret $PARLOR_JWT_SECRET --user 0 --runs 200 kaka kak lomi zorus "kaka lomi" > $OUT/search.txt 2>&1
taskset -c 1 python3 /work/main/bench/search.py --url http://127.0.0.1:$PORT --secret $PARLOR_JWT_SECRET --user 5 --runs 50 --pages 0 kaka > $OUT/search-user5.txt 2>&1
kill -TERM $SP; wait $SP
echo DONE
