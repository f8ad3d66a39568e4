# Shared by bench/run and bench/flame.sh (sourced, from the repository's root): which binaries
# to run, and fresh servers to run them against.
#
# Binaries: $PARLOR_BIN_DIR/{parlor,parlor-bench} as they are when set (another build's, for
# A/B runs without editing anything); otherwise this tree's, built now in the given profile under
# $CARGO_TARGET_DIR (default target/).

SECRET=bench-secret-of-at-least-32-bytes-0123456789
export PARLOR_JWT_SECRET=$SECRET
SP=""

# find_binaries PROFILE (release | debug): sets PARLOR and BENCH.
find_binaries() {
    local profile=$1 dir
    if [ -n "${PARLOR_BIN_DIR:-}" ]; then
        dir=$PARLOR_BIN_DIR
    else
        if [ "$profile" = release ]; then
            cargo build --release -q -p parlor-server -p parlor-bench
        else
            cargo build -q -p parlor-server -p parlor-bench
        fi
        dir=${CARGO_TARGET_DIR:-target}/$profile
    fi
    case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
    PARLOR=$dir/parlor
    BENCH=$dir/parlor-bench
    local bin
    for bin in "$PARLOR" "$BENCH"; do
        [ -x "$bin" ] || { echo "no executable $bin (PARLOR_BIN_DIR=${PARLOR_BIN_DIR:-unset})" >&2; return 1; }
    done
    echo "== binaries: $dir" >&2
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server [VAR=value...]: a fresh server (own data directory under $WORK, free port) with
# the load's users signing their own tokens and every rate limit off (the load sends far faster
# than people). Sets PORT, URL and SP (its pid), which it also writes to $PARLOR_BENCH_PID_FILE
# when set (bench/flame.sh profiles that process).
start_server() {
    stop_server
    PORT=$(free_port)
    URL=http://127.0.0.1:$PORT
    local dir=$WORK/data-$PORT
    mkdir -p "$dir"
    env PARLOR_LOG=warn \
        PARLOR_RATE_LIMITS__SENDS__PER_MINUTE=0 PARLOR_RATE_LIMITS__CONNECTS__PER_MINUTE=0 \
        PARLOR_RATE_LIMITS__MAX_CONNECTIONS_PER_USER=0 "$@" \
        ${PIN_SERVER:+taskset -c "$PIN_SERVER"} "$PARLOR" serve --bind "127.0.0.1:$PORT" --data-dir "$dir" \
        >"$WORK/server-$PORT.log" 2>&1 &
    SP=$!
    wait_for_health 100 && return 0
    cat "$WORK/server-$PORT.log"
    echo "the server did not start" >&2
    return 1
}

# Starts the server again on an existing data directory.
reuse_server() {
    local dir=$1
    PORT=$(free_port)
    URL=http://127.0.0.1:$PORT
    env PARLOR_LOG=warn PARLOR_RATE_LIMITS__SENDS__PER_MINUTE=0 \
        "$PARLOR" serve --bind "127.0.0.1:$PORT" --data-dir "$dir" >"$WORK/server-$PORT.log" 2>&1 &
    SP=$!
    wait_for_health 300
}

# Polls /healthz up to N times, 0.1 s apart; then announces the server's pid.
wait_for_health() {
    for _ in $(seq "$1"); do
        if curl -fs "$URL/healthz" >/dev/null; then
            [ -n "${PARLOR_BENCH_PID_FILE:-}" ] && echo "$SP" >"$PARLOR_BENCH_PID_FILE"
            return 0
        fi
        sleep 0.1
    done
    return 1
}

stop_server() {
    if [ -n "$SP" ]; then
        kill "$SP" 2>/dev/null || true
        wait "$SP" 2>/dev/null || true
        SP=""
    fi
}
