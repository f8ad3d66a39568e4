#!/usr/bin/env bash
# A CPU flame graph of the server under a load: perf samples the server process (499 Hz, with
# call stacks) while the load runs; inferno folds the stacks and draws docs/bench/flame-NAME.svg.
#
#   bench/flame.sh NAME [--secs N] [VAR=value...] -- MODE ARGS...
#       a fresh release server (the environment VAR=value, e.g. PARLOR_SQLITE_DURABILITY=normal),
#       then `parlor-bench MODE ARGS --url URL --server-pid PID`; sampling starts when a `load`
#       starts sending (its "connected:" line; other modes: --wait S seconds after starting) and
#       lasts N seconds (default 10), so give the load a --duration longer than that. A profile
#       at a ceiling is a `load` at the ceiling's rate, e.g. the DM ceiling:
#         bench/flame.sh dms-6000 PARLOR_SQLITE_DURABILITY=normal -- \
#             load --rooms 500 --room-size 2 --rate 6000 --duration 20
#   bench/flame.sh NAME [--secs N] [--wait S] -- COMMAND...
#       any command that starts servers through bench/lib.sh (e.g. `bench/run big_room`): samples
#       the first server it starts, from S seconds (default 5) after it answers, for N seconds.
#
# Binaries as bench/run's: this tree's release build, or $PARLOR_BIN_DIR's. Stacks are unwound
# from copies of the stack (perf --call-graph dwarf, with the .eh_frame tables every Rust binary
# has): parlor is built without frame pointers, so `-g` stops after a frame or two. Functions
# inlined into others show as their callers: expanding them from debug line tables ran
# addr2line for minutes per profile. Needs perf and inferno (`cargo install inferno`:
# inferno-collapse-perf and inferno-flamegraph on PATH).
# Env: FLAME_OUT (default docs/bench) for the SVG; PERF_CALL_GRAPH (default dwarf); PIN_SERVER
# and PIN_BENCH as bench/run's (a core each); FLAME_FOLDED=DIR keeps the folded stacks.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}
[ $# -ge 3 ] || usage
NAME=$1
shift
SECS=10
WAIT=5
SERVER_ENV=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
        --secs) SECS=$2 && shift 2 ;;
        --wait) WAIT=$2 && shift 2 ;;
        *=*) SERVER_ENV+=("$1") && shift ;;
        *) usage ;;
    esac
done
[ "${1:-}" = -- ] && [ $# -ge 2 ] || usage
shift
OUT_DIR=${FLAME_OUT:-docs/bench}
for tool in perf inferno-collapse-perf inferno-flamegraph; do
    command -v "$tool" >/dev/null || { echo "flame: $tool is not on PATH (perf; cargo install inferno)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/parlor-flame.XXXXXX)
LOAD=""
cleanup() {
    [ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null
    stop_server
    rm -rf "$WORK"
}
source bench/lib.sh
trap cleanup EXIT

# sample PID: perf on that process for $SECS seconds.
sample() {
    echo "== flame: sampling pid $1 for $SECS s" >&2
    # --no-buildid-cache: perf would otherwise keep a copy of every binary it sampled in ~/.debug.
    perf record -F 499 --call-graph "${PERF_CALL_GRAPH:-dwarf}" --no-buildid-cache -p "$1" -o "$WORK/perf.data" \
        -- sleep "$SECS" \
        2>"$WORK/perf.log" || { cat "$WORK/perf.log" >&2; return 1; }
}

case $1 in
    */*)
        # A command that starts its own servers: the first one's pid arrives in the file.
        export PARLOR_BENCH_PID_FILE=$WORK/server.pid
        "$@" &
        LOAD=$!
        for _ in $(seq 6000); do
            [ -s "$PARLOR_BENCH_PID_FILE" ] && break
            kill -0 "$LOAD" 2>/dev/null || { echo "flame: $1 ended before starting a server" >&2; exit 1; }
            sleep 0.1
        done
        [ -s "$PARLOR_BENCH_PID_FILE" ] || { echo "flame: no server started" >&2; exit 1; }
        sleep "$WAIT"
        sample "$(cat "$PARLOR_BENCH_PID_FILE")"
        ;;
    *)
        find_binaries release
        start_server "${SERVER_ENV[@]}"
        ${PIN_BENCH:+taskset -c "$PIN_BENCH"} "$BENCH" "$@" --url "$URL" --server-pid "$SP" 2>"$WORK/load.log" &
        LOAD=$!
        # The load's fixture and connections are not what is being profiled: wait for its sends.
        if [ "$1" = load ]; then
            until grep -q '^connected:' "$WORK/load.log"; do
                kill -0 "$LOAD" 2>/dev/null || { cat "$WORK/load.log" >&2; echo "flame: the load ended first" >&2; exit 1; }
                sleep 0.1
            done
            sleep 1
        else
            sleep "$WAIT"
        fi
        sample "$SP"
        ;;
esac
# The load finishes on its own (its report goes to the terminal).
wait "$LOAD" || echo "flame: the load exited with $?" >&2
LOAD=""
[ -s "$WORK/load.log" ] && cat "$WORK/load.log" >&2

mkdir -p "$OUT_DIR"
perf script --no-inline -i "$WORK/perf.data" 2>/dev/null | inferno-collapse-perf >"$WORK/folded"
# FLAME_FOLDED=DIR keeps the folded stacks (one line per stack and its samples), to count shares.
[ -n "${FLAME_FOLDED:-}" ] && mkdir -p "$FLAME_FOLDED" && cp "$WORK/folded" "$FLAME_FOLDED/$NAME.folded"
inferno-flamegraph --title "parlor: $NAME ($SECS s at 499 Hz)" --width 1600 <"$WORK/folded" >"$OUT_DIR/flame-$NAME.svg"
echo "== flame: $OUT_DIR/flame-$NAME.svg ($(wc -l <"$WORK/folded") distinct stacks)" >&2
