#!/usr/bin/env bash
# Private, throw-away PostgreSQL and Redis servers for the test suite.
#
# Sourced by scripts/test.sh (functions svc_start_postgres, svc_start_redis,
# svc_stop_all), or run directly:
#
#   scripts/services.sh exec -- CMD [ARG...]   start both, export DATABASE_URL and
#                                              REDIS_URL, run CMD, stop both
#   scripts/services.sh up                     start both, print the exports, wait
#                                              for Ctrl-C, stop both
#
# Both servers listen on 127.0.0.1 only, on a free port, with their data under
# .tmp/ (falling back to /tmp when the unprivileged user cannot reach .tmp/ or the
# socket path would be too long). As root, they run as the `postgres` system user
# (or `nobody`). They are stopped by the PIDs recorded when they were started, and
# their directories removed. SERVICES_PG_ARGS: more `-c name=value` settings for
# PostgreSQL (diagnostics, e.g. shared_preload_libraries=pg_stat_statements).

SVC_REPO_ROOT="${SVC_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
SVC_TMP_ROOT="${SVC_TMP_ROOT:-$SVC_REPO_ROOT/.tmp}"
SVC_DB_NAME="${SVC_DB_NAME:-sohbet}"
SVC_READY_TRIES="${SVC_READY_TRIES:-240}" # x 0.25 s = 60 s at most per service

SVC_PG_PID=""
SVC_PG_DIR=""
SVC_REDIS_PID=""
SVC_REDIS_DIR=""
SVC_RUN_USER="${SVC_RUN_USER:-}" # as root: the user that runs the servers

svc_log() { printf '[services] %s\n' "$*" >&2; }

# --- helpers -----------------------------------------------------------------

svc_free_port() {
    python3 - <<'PY'
import socket

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

# True while PID is a live (not zombie) process whose command line contains WORD:
# we never signal a PID that has been reused by somebody else's process.
svc_alive() {
    local pid=$1 word=$2 state cmdline
    [[ -n "$pid" && -r /proc/$pid/stat ]] || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [[ "$state" != Z ]] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *"$word"* ]]
}

svc_pg_bindir() {
    local d
    if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then
        echo /usr/lib/postgresql/15/bin
        return
    fi
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        if [[ -x "$d/initdb" && -x "$d/postgres" ]]; then
            echo "$d"
            return
        fi
    done
    return 1
}

# As root, the servers run as an unprivileged user (PostgreSQL refuses root).
svc_pick_user() {
    if [[ "$(id -u)" != 0 ]]; then
        SVC_RUN_USER=""
    elif [[ -z "$SVC_RUN_USER" ]]; then
        if id -u postgres >/dev/null 2>&1; then
            SVC_RUN_USER=postgres
        else
            SVC_RUN_USER=nobody
        fi
    fi
    svc_set_prefix
}

# The command prefix that runs a program as the service user, in SVC_AS (an
# exec-style prefix, no intermediate process: $! of a backgrounded
# `exec "${SVC_AS[@]}" server` is the server's own PID).
SVC_AS=()
svc_set_prefix() {
    SVC_AS=()
    if [[ -n "$SVC_RUN_USER" ]]; then
        SVC_AS=(setpriv --reuid="$(id -u "$SVC_RUN_USER")"
            --regid="$(id -g "$SVC_RUN_USER")" --clear-groups --)
    fi
}

svc_as_user() { "${SVC_AS[@]}" "$@"; }

# Make a fresh directory for a service that the service user can use; prints it.
svc_make_dir() {
    local prefix=$1 dir=""
    if mkdir -p "$SVC_TMP_ROOT" 2>/dev/null; then
        dir=$(mktemp -d "$SVC_TMP_ROOT/$prefix-XXXXXXXX" 2>/dev/null) || dir=""
    fi
    # Unix socket paths are limited to 107 bytes.
    if [[ -z "$dir" ]] || ((${#dir} + 32 > 107)) || ! svc_dir_usable "$dir"; then
        [[ -z "$dir" ]] || rm -rf "$dir"
        dir=$(mktemp -d "${TMPDIR:-/tmp}/sohbet-$prefix-XXXXXXXX")
        svc_log "using $dir ($SVC_TMP_ROOT is not reachable by ${SVC_RUN_USER:-$(id -un)} or too deep)"
        svc_dir_usable "$dir" || {
            svc_log "cannot prepare a directory for $prefix"
            return 1
        }
    fi
    echo "$dir"
}

svc_dir_usable() {
    local dir=$1
    if [[ -n "$SVC_RUN_USER" ]]; then
        chown "$SVC_RUN_USER:" "$dir" || return 1
        chmod 700 "$dir"
    fi
    (cd / && svc_as_user test -w "$dir" -a -x "$dir") 2>/dev/null
}

# Wait until CHECK succeeds while PID (running WORD) stays alive; bounded.
svc_wait_ready() {
    local name=$1 pid=$2 word=$3 log=$4
    shift 4
    local i
    for ((i = 0; i < SVC_READY_TRIES; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if ! svc_alive "$pid" "$word"; then
            svc_log "$name exited before answering; last lines of $log:"
            tail -n 20 "$log" >&2 || true
            return 1
        fi
        sleep 0.25
    done
    svc_log "$name did not answer within $((SVC_READY_TRIES / 4)) s; last lines of $log:"
    tail -n 20 "$log" >&2 || true
    return 1
}

# Stop PID (running WORD): SIGNAL, then wait (bounded), then SIGKILL.
svc_stop_pid() {
    local name=$1 pid=$2 word=$3 signal=$4 i
    [[ -n "$pid" ]] || return 0
    if svc_alive "$pid" "$word"; then
        kill "-$signal" "$pid" 2>/dev/null || true
        for ((i = 0; i < 120; i++)); do
            svc_alive "$pid" "$word" || break
            sleep 0.25
        done
        if svc_alive "$pid" "$word"; then
            svc_log "$name (pid $pid) ignored SIG$signal for 30 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Reap it when it is our child (no-op otherwise).
    wait "$pid" 2>/dev/null || true
    svc_log "stopped $name (pid $pid)"
}

# --- PostgreSQL --------------------------------------------------------------

svc_start_postgres() {
    local bindir dir port attempt pid
    bindir=$(svc_pg_bindir) || {
        svc_log "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql-15"
        return 1
    }
    svc_pick_user
    dir=$(svc_make_dir pg) || return 1
    SVC_PG_DIR=$dir
    svc_log "initdb $dir/data ($bindir, user ${SVC_RUN_USER:-$(id -un)})"
    mkdir -p "$dir/sock"
    [[ -z "$SVC_RUN_USER" ]] || chown "$SVC_RUN_USER:" "$dir/sock"
    if ! (cd "$dir" && svc_as_user "$bindir/initdb" -D "$dir/data" -U postgres \
        --auth=trust --no-locale -E UTF8 --no-sync --no-instructions) \
        >"$dir/initdb.log" 2>&1; then
        svc_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        return 1
    fi
    for attempt in 1 2 3; do
        port=$(svc_free_port)
        (cd "$dir" && exec "${SVC_AS[@]}" "$bindir/postgres" -D "$dir/data" \
            -c listen_addresses=127.0.0.1 -c port="$port" \
            -c unix_socket_directories="$dir/sock" \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=200 -c shared_buffers=64MB \
            -c log_min_messages=warning ${SERVICES_PG_ARGS:-}) >"$dir/postgres.log" 2>&1 &
        pid=$!
        SVC_PG_PID=$pid
        echo "$pid" >"$SVC_PG_DIR/pid"
        if svc_wait_ready PostgreSQL "$pid" postgres "$dir/postgres.log" \
            "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres; then
            break
        fi
        svc_stop_pid PostgreSQL "$pid" postgres INT
        SVC_PG_PID=""
        if ((attempt == 3)) || ! grep -q 'could not bind' "$dir/postgres.log"; then
            return 1
        fi
        svc_log "port $port was taken meanwhile; retrying"
    done
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$SVC_DB_NAME" || return 1
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$SVC_DB_NAME"
    svc_log "PostgreSQL up: pid $SVC_PG_PID, $DATABASE_URL"
}

# --- Redis -------------------------------------------------------------------

svc_start_redis() {
    local dir port attempt pid
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
        svc_log "redis-server / redis-cli not found: apt-get install redis-server"
        return 1
    fi
    svc_pick_user
    dir=$(svc_make_dir redis) || return 1
    SVC_REDIS_DIR=$dir
    for attempt in 1 2 3; do
        port=$(svc_free_port)
        (cd "$dir" && exec "${SVC_AS[@]}" redis-server \
            --bind 127.0.0.1 --port "$port" --protected-mode yes \
            --save "" --appendonly no --daemonize no --dir "$dir" \
            --logfile "" --loglevel warning) >"$dir/redis.log" 2>&1 &
        pid=$!
        SVC_REDIS_PID=$pid
        echo "$pid" >"$SVC_REDIS_DIR/pid"
        if svc_wait_ready Redis "$pid" redis-server "$dir/redis.log" \
            svc_redis_ping "$port"; then
            break
        fi
        svc_stop_pid Redis "$pid" redis-server TERM
        SVC_REDIS_PID=""
        if ((attempt == 3)) || ! grep -qi 'address already in use' "$dir/redis.log"; then
            return 1
        fi
        svc_log "port $port was taken meanwhile; retrying"
    done
    export REDIS_URL="redis://127.0.0.1:$port/0"
    svc_log "Redis up: pid $SVC_REDIS_PID, $REDIS_URL"
}

svc_redis_ping() {
    [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]
}

# Keep the servers' logs (for a failed run): copy them into DEST and print
# their last lines.
svc_save_logs() {
    local dest=$1 f
    mkdir -p "$dest"
    for f in "$SVC_PG_DIR/postgres.log" "$SVC_REDIS_DIR/redis.log"; do
        [[ -s "$f" ]] || continue
        cp "$f" "$dest/"
        svc_log "last lines of $(basename "$f") (whole log: $dest/$(basename "$f")):"
        tail -n 25 "$f" >&2
    done
}

# --- stop ----------------------------------------------------------------------

svc_stop_all() {
    if [[ -n "$SVC_REDIS_PID" ]]; then
        svc_stop_pid Redis "$SVC_REDIS_PID" redis-server TERM
        SVC_REDIS_PID=""
    fi
    if [[ -n "$SVC_PG_PID" ]]; then
        # SIGINT = PostgreSQL's "fast" shutdown.
        svc_stop_pid PostgreSQL "$SVC_PG_PID" postgres INT
        SVC_PG_PID=""
    fi
    local d
    for d in "$SVC_REDIS_DIR" "$SVC_PG_DIR"; do
        [[ -n "$d" && -d "$d" ]] && rm -rf -- "$d"
    done
    SVC_REDIS_DIR=""
    SVC_PG_DIR=""
    rmdir "$SVC_TMP_ROOT" 2>/dev/null || true
}

# --- command line ----------------------------------------------------------------

svc_main() {
    set -euo pipefail
    local cmd=${1:-}
    shift || true
    case "$cmd" in
        exec)
            [[ "${1:-}" == -- ]] && shift
            [[ $# -gt 0 ]] || {
                echo "usage: $0 exec -- CMD [ARG...]" >&2
                exit 2
            }
            trap svc_stop_all EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            svc_start_postgres
            svc_start_redis
            local rc=0
            "$@" || rc=$?
            exit "$rc"
            ;;
        up)
            trap svc_stop_all EXIT
            trap 'exit 130' INT
            trap 'exit 143' TERM
            svc_start_postgres
            svc_start_redis
            echo "export DATABASE_URL=$DATABASE_URL"
            echo "export REDIS_URL=$REDIS_URL"
            svc_log "running; Ctrl-C stops both"
            while svc_alive "$SVC_PG_PID" postgres && svc_alive "$SVC_REDIS_PID" redis-server; do
                sleep 1
            done
            svc_log "a service exited on its own"
            exit 1
            ;;
        *)
            echo "usage: $0 exec -- CMD [ARG...] | up" >&2
            exit 2
            ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    svc_main "$@"
fi
