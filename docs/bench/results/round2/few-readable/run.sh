#!/usr/bin/env bash
# Target 8's searcher who may read few of the messages, before and after `Source::Own`
# (crates/parlor-store-sqlite/src/search.rs). Usage: run.sh BEFORE_BIN AFTER_BIN D1 D2 OUT_DIR
#   D1: bench/fill_sqlite.py D1 --messages 1000000 --conversations 1000 --large-messages 0 \
#       --heavy-conversations 1000 --heavy-messages 60          (bench-5 may search 1,018 messages)
#   D2: a copy of D1 where bench-5 (users.id 6) is also a member of conversations 4 and 5
#       (INSERT INTO members (conversation_id, user_id, joined_at) VALUES (4, 6, 0), (5, 6, 0)):
#       2,898 messages, near the most `Source::Own` indexes at 1 M messages (3,544).
# Server pinned to core 0, the client to core 1; nothing else running.
set -euo pipefail
before="$1" after="$2" d1="$3" d2="$4" out="$5"
export PARLOR_JWT_SECRET=bench-secret-of-at-least-32-bytes-0123456789
mkdir -p "$out"
here="$(cd "$(dirname "$0")/../../../../.." && pwd)"
run() { # label bin dir user runs queries...
    local label="$1" bin="$2" dir="$3" user="$4" runs="$5"; shift 5
    PARLOR_LOG=warn taskset -c 0 "$bin" serve --bind 127.0.0.1:18082 --data-dir "$dir" &
    local pid=$!
    sleep 3
    taskset -c 1 python3 "$here/bench/search.py" --url http://127.0.0.1:18082 --secret "$PARLOR_JWT_SECRET" \
        --user "$user" --runs "$runs" --warmup 5 --pages 5 "$@" | tee "$out/$label.txt"
    kill -TERM "$pid"; wait "$pid" || true
}
run before-bench5 "$before" "$d1" 5 30 kaka kak lomi zorus "kaka lomi"
run after-bench5 "$after" "$d1" 5 200 kaka kak lomi zorus "kaka lomi"
run before-bench5-2898 "$before" "$d2" 5 30 kaka lomi zorus
run after-bench5-2898 "$after" "$d2" 5 200 kaka lomi zorus
run before-bench0 "$before" "$d1" 0 200 kaka lomi zorus
run after-bench0 "$after" "$d1" 0 200 kaka lomi zorus
