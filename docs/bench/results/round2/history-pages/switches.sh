#!/bin/bash
# Context switches and CPU per history page of LIMIT messages: perf stat on the server process
# while 1,000 requests run (after 300 warm-up).
# usage: rows.sh BINDIR LIMITS...
export PARLOR_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789
cd /work/reads; B=$1; shift
PARLOR_LOG=warn taskset -c 0 $B/parlor serve --bind 127.0.0.1:18093 --data-dir /work/reads/d5m > out/s.log 2>&1 &
SP=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:18093/healthz >/dev/null && break; sleep 0.2; done
for lim in "$@"; do
  taskset -c 1 $B/parlor-bench requests --json --user 1 --path "/api/chat/conversations/1/messages?limit=$lim" --count 300 --url http://127.0.0.1:18093 --server-pid $SP >/dev/null
  perf stat -e context-switches,task-clock -p $SP -o out/st-$lim.txt & PS=$!; sleep 0.3
  taskset -c 1 $B/parlor-bench requests --json --user 1 --path "/api/chat/conversations/1/messages?limit=$lim" --count 1000 --url http://127.0.0.1:18093 --server-pid $SP > out/r-$lim.json
  kill -INT $PS; wait $PS
  python3 -c "
import json,sys; d=json.load(open('out/r-$lim.json')); print('limit $lim', {k:v for k,v in d.items() if 'ms' in k or 'p' in k[:2]})" 2>/dev/null | cut -c1-300
  echo "limit $lim: $(grep -E 'context|task-clock' out/st-$lim.txt | awk '{print $1}' | tr '\n' ' ')"
done
kill $SP; wait $SP
