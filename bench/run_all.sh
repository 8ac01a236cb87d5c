#!/usr/bin/env bash
# Run the load scenarios of docs/performance.md against ONE Daphne process on private
# PostgreSQL + Redis, from scratch, and stop everything it started (by PID).
#
#   bench/run_all.sh OUTDIR [a] [b] [c] [n] [m] [lone]  (default: a b c; n: new
#   conversations; m: the same in scenario a's load; lone: bench/lone.py)
#
# Environment (all optional):
#   APP=chatsite.asgi:application    the ASGI application Daphne serves
#   (APP=bench.diagnostic_asgi:application with BENCH_TRACEMALLOC=1: memory by line)
#   RATES="1 2 4 6 8 10"             scenario b's per-visitor rates
#   DURATION=30                      seconds of each window (a: 60)
#   PROCESSES=2                      client processes
#   PORT=8001
#   SERVER=".venv/bin/python -m chatsite.server"   how the server is started (as deployed;
#                                    ".venv/bin/daphne": stock Daphne; "python -m cProfile -o F
#                                    -m chatsite.server": profiled)
#   PYSPY=1                          profile the server in each window (NAME.spy.txt)
#   C_VISITORS=5000                  scenario c's idle sockets
#   ARRIVALS="1:30 20:200 50:200"    scenario n's RATE:VISITORS runs (then the burst)
#   HOW="open page", BURST="open page"  which of scenario n's runs (BURST="": none;
#                                    HOW=written: the same message, a conversation's second;
#                                    HOW=idle: the same sockets and window, no message:
#                                    bench/summarize.py subtracts its CPU)
#   ROUNDS=1                         scenario n's runs this many times, interleaved
#   M_BACKGROUND=1000, M_ARRIVALS="20:200 50:500"   scenario m: a's visitors (0.5 msg/s
#                                    each), and the new conversations among them
#   LOAD_ARGS=                       more bench/load.py options for every run (e.g. --usr2)
#   LONE_COUNT=200, NEW=100, WIDGET=100   lone: pings and messages, new conversations,
#                                    widget visitors (bench/lone.py --count, --new, --widget)
#
# Every step is bounded; OUTDIR gets one .json and one .txt report per run plus the
# Daphne log. Needs: .venv with requirements-dev.txt, PostgreSQL 15 binaries and
# redis-server (scripts/services.sh), and root or a user who may run them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:?usage: bench/run_all.sh OUTDIR [a] [b] [c]}
shift
SCENARIOS=${*:-a b c}
APP=${APP:-chatsite.asgi:application}
RATES=${RATES:-1 2 4 6 8 10}
DURATION=${DURATION:-30}
PROCESSES=${PROCESSES:-2}
PORT=${PORT:-8001}
PY=$ROOT/.venv/bin/python
SERVER=${SERVER:-$PY -m chatsite.server}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$ROOT"

SVC_PID=""
DAPHNE_PID=""
log() { printf '[run_all %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_daphne() {
    if [[ -n "$DAPHNE_PID" ]] && kill -0 "$DAPHNE_PID" 2>/dev/null; then
        kill -TERM "$DAPHNE_PID" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$DAPHNE_PID" 2>/dev/null || break
            sleep 0.25
        done
        kill -0 "$DAPHNE_PID" 2>/dev/null && kill -KILL "$DAPHNE_PID" 2>/dev/null || true
        wait "$DAPHNE_PID" 2>/dev/null || true
    fi
    DAPHNE_PID=""
}

cleanup() {
    stop_daphne
    if [[ -n "$SVC_PID" ]] && kill -0 "$SVC_PID" 2>/dev/null; then
        kill -TERM "$SVC_PID" 2>/dev/null || true # services.sh stops both servers
        wait "$SVC_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One socket = one descriptor, on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "open files limit: $(ulimit -n)"

log "starting PostgreSQL + Redis (scripts/services.sh up)"
scripts/services.sh up >"$OUT/services.out" 2>"$OUT/services.err" &
SVC_PID=$!
for _ in $(seq 1 240); do
    grep -q REDIS_URL "$OUT/services.out" 2>/dev/null && break
    kill -0 "$SVC_PID" 2>/dev/null || { cat "$OUT/services.err" >&2; exit 1; }
    sleep 0.5
done
# shellcheck disable=SC1090
source <(grep '^export ' "$OUT/services.out")
PG_PID=$(awk '/PostgreSQL up: pid/ {sub(",", "", $5); print $5}' "$OUT/services.err")
REDIS_PID=$(awk '/Redis up: pid/ {sub(",", "", $5); print $5}' "$OUT/services.err")

export DJANGO_DEBUG=0
DJANGO_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECURE_SSL_REDIRECT=0
# Lift the per-connection frame limits: one visitor sends up to 10 msg/s here.
export SOHBET_WIDGET_SITES=http://localhost:*  # lone.py --widget
export SOHBET_WS_RATE=100000/1
export SOHBET_WS_FLOOD=200000/1
BENCH_PASSWORD=bench-$("$PY" -c 'import secrets; print(secrets.token_hex(12))')
export DJANGO_SUPERUSER_PASSWORD=$BENCH_PASSWORD

log "collectstatic, migrate, operator account"
# collectstatic first: with DEBUG off, URL loading needs the static manifest.
"$PY" manage.py collectstatic --noinput >"$OUT/setup.log" 2>&1
"$PY" manage.py migrate --noinput >>"$OUT/setup.log" 2>&1
"$PY" manage.py createsuperuser --noinput --username bench --email b@example.com \
    >>"$OUT/setup.log" 2>&1

start_daphne() {
    stop_daphne
    # Others may change templates, static files or models between runs.
    "$PY" manage.py collectstatic --noinput >>"$OUT/setup.log" 2>&1
    "$PY" manage.py migrate --noinput >>"$OUT/setup.log" 2>&1
    $SERVER -b 127.0.0.1 -p "$PORT" "$APP" >>"$OUT/daphne.log" 2>&1 &
    DAPHNE_PID=$!
    for _ in $(seq 1 120); do
        if "$PY" - "$PORT" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz/", timeout=2)
PY
            log "daphne up: pid $DAPHNE_PID ($APP)"
            return 0
        fi
        kill -0 "$DAPHNE_PID" 2>/dev/null || { tail -20 "$OUT/daphne.log" >&2; exit 1; }
        sleep 0.25
    done
    log "daphne did not answer"
    exit 1
}

conversations() { # PREFIX BACKGROUND "RATE:COUNT..." "HOW..." : scenario n's runs
    local prefix=$1 background=$2 round spec rate count how flag suffix=""
    for round in $(seq 1 "${ROUNDS:-1}"); do
        [[ ${ROUNDS:-1} -gt 1 ]] && suffix="_$round"
        for spec in $3; do
            rate=${spec%%:*}
            count=${spec##*:}
            for how in $4; do
                flag="--arrivals $rate --background $background"
                [[ $how == open ]] && flag="$flag --open-first"
                [[ $how == written ]] && flag="$flag --open-first --written"
                [[ $how == idle ]] && flag="$flag --open-first --written --hold"
                start_daphne
                load "${prefix}_${rate}ps_${count}v_$how$suffix" \
                    --visitors $((background + count)) --operators 2 --rate 0 \
                    --duration $((count / rate + 5)) $flag
            done
        done
    done
}

load() { # NAME ARGS... : one bench run, bounded by load.py itself (+ a timeout)
    local name=$1
    shift
    log "run $name: $*"
    timeout 1200 "$PY" bench/load.py --url "http://127.0.0.1:$PORT" \
        --server-pid "$DAPHNE_PID" --cpu-pid "$PG_PID" --cpu-pid "$REDIS_PID" \
        --operator-user bench --operator-password "$BENCH_PASSWORD" \
        --processes "$PROCESSES" --json "$OUT/$name.json" \
        ${PYSPY:+--py-spy "$OUT/$name.spy.txt"} ${LOAD_ARGS:-} "$@" \
        >"$OUT/$name.txt" 2>"$OUT/$name.err" || true
    cat "$OUT/$name.txt"
}

{
    echo "date: $(date -Is)"
    echo "git: $(git rev-parse HEAD) (+ working tree: $(git status --short | wc -l) changed files)"
    echo "chat/ md5: $(cat chat/*.py | md5sum | cut -d' ' -f1)"
    echo "APP=$APP"
    echo "nproc: $(nproc)"
    grep -m1 'model name' /proc/cpuinfo
    free -h
} >"$OUT/machine.txt"

for s in $SCENARIOS; do
    case $s in
        a)
            start_daphne
            load a_1000v_0.5 --visitors 1000 --operators 2 --rate 0.5 \
                --duration "${DURATION_A:-60}" --connect-phase 600
            ;;
        b)
            for r in $RATES; do
                start_daphne
                load "b_200v_r$r" --visitors 200 --operators 2 --rate "$r" \
                    --duration "$DURATION"
            done
            ;;
        c)
            start_daphne
            load c_warmup --visitors 20 --operators 1 --rate 0.5 --duration 3
            load "c_${C_VISITORS:-5000}_idle" --visitors "${C_VISITORS:-5000}" --operators 1 --rate 0 \
                --duration "$DURATION" --connect-phase 900
            ;;
        n)
            # New conversations, RATE/s x VISITORS: "open" visitors have the page and
            # the socket open before and what arrives is their first message; "page"
            # visitors arrive from nothing (page, socket, first message). Then 1,000
            # visitors starting within two seconds, who go on at 0.5 msg/s, both ways.
            conversations n 0 "${ARRIVALS:-1:30 20:200 50:200}" "${HOW:-open page}"
            for how in ${BURST-open page}; do
                flag=""
                [[ $how == open ]] && flag=--open-first
                start_daphne
                load "n_burst_1000v_$how" --visitors 1000 --operators 2 --arrivals 500 \
                    --rate 0.5 --duration "$DURATION" $flag
            done
            ;;
        m)
            # New conversations in scenario a's load: M_BACKGROUND visitors, open and
            # written before, send 0.5 msg/s each while the others begin theirs.
            conversations m "${M_BACKGROUND:-1000}" "${M_ARRIVALS:-20:200 50:500}" \
                "${HOW:-idle written open}"
            ;;
        lone)
            # lone.py --new starts its conversations from one address (scenario n
            # gives each visitor an address of its own, under the production limits).
            SOHBET_NEW_THREADS_PER_NETWORK=100000/3600 start_daphne
            SPY_PID=""
            if [[ -n "${PYSPY:-}" ]]; then
                "$ROOT/.venv/bin/py-spy" record --pid "$DAPHNE_PID" --rate 500 --threads --gil \
                    --nonblocking --format raw -o "$OUT/lone.spy.txt" --duration 280 \
                    >"$OUT/lone.spy.log" 2>&1 &
                SPY_PID=$!
            fi
            timeout 300 "$PY" bench/lone.py --url "http://127.0.0.1:$PORT" \
                --count "${LONE_COUNT:-200}" --new "${NEW:-100}" --widget "${WIDGET:-100}" --server-pid "$DAPHNE_PID" \
                >"$OUT/lone.txt" 2>&1 || log "lone failed: $OUT/lone.txt"
            if [[ -n "$SPY_PID" ]]; then
                kill -INT "$SPY_PID" 2>/dev/null || true
                wait "$SPY_PID" 2>/dev/null || true
            fi
            cat "$OUT/lone.txt"
            ;;
        *) log "unknown scenario $s" ;;
    esac
done
stop_daphne
log "done: $OUT"
