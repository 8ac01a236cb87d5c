#!/usr/bin/env bash
# The whole test suite, set up from scratch (called by `make test`).
#
#   scripts/test.sh [PYTEST ARGS...]
#
# 1. system packages: redis-server, chromium, PostgreSQL server binaries, npm and
#    node (installed with apt-get when missing and we are root, else a clear error);
#    then the browser tests' npm tools (axe-core, package-lock.json) into
#    node_modules/ with npm ci, when missing or older than the lock file;
#    then the client library's unit tests (tests/js, Node's own test runner);
# 2. private PostgreSQL + Redis on 127.0.0.1 (unless DATABASE_URL / REDIS_URL are
#    already set), DATABASE_URL and REDIS_URL exported;
# 3. run 1: the whole suite against PostgreSQL + Redis;
# 4. run 2: the non-browser tests not marked postgres_redis against the embedded
#    defaults (SQLite, in-memory channel layer, local-memory cache);
# 5. the services are stopped (trap on EXIT) and their directories removed.
#
# Exits non-zero when the unit tests or either run fails; "no tests collected"
# (pytest exit 5) fails run 1. Extra arguments go to both pytest runs.
#
# Each run spreads its test files over SOHBET_TEST_WORKERS processes (pytest-xdist;
# default: the CPU count, at most 4; 1 runs in-process). A worker has its own test
# database, Redis databases and channel-layer prefix (tests/settings.py).
#
# Environment: SOHBET_PYTEST_TIMEOUT (seconds, CI only, default 1800) bounds each
# pytest run as a whole; the per-test timeout is in pyproject.toml.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$(pwd)
PY="$REPO_ROOT/.venv/bin/python"

log() { printf '\n==> %s\n' "$*" >&2; }

# --- 1. system packages ------------------------------------------------------
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
if [[ -z "${REDIS_URL:-}" ]] && ! command -v redis-server >/dev/null; then
    missing+=(redis-server)
fi
if [[ -z "${DATABASE_URL:-}" ]] && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    missing+=(postgresql-15)
fi
command -v npm >/dev/null || missing+=(npm)
# The PDF transcripts' font (SOHBET_PDF_FONT's default).
[[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || missing+=(fonts-dejavu-core)
command -v node >/dev/null || missing+=(nodejs)
if ((${#missing[@]})); then
    if [[ "$(id -u)" == 0 ]]; then
        log "installing missing system packages: ${missing[*]}"
        bash scripts/system-deps.sh "${missing[@]}"
    else
        cat >&2 <<EOF

ERROR: missing system packages: ${missing[*]}
The test suite needs them (Chromium and npm for the browser tests, Node for the
client library's unit tests, PostgreSQL and Redis for the production-like run). Install them as root, then run make test again:

    sudo apt-get update
    sudo apt-get install -y --no-install-recommends ${missing[*]}

EOF
        exit 1
    fi
fi

# --- 1b. virtualenv (make test already did it; this covers direct calls) ------
if [[ ! -x "$PY" ]]; then
    log "no .venv: make deps"
    make --no-print-directory deps
fi

# --- 1c. the browser tests' npm tools ----------------------------------------
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "npm ci (axe-core for the accessibility checks, package-lock.json)"
    npm ci --no-audit --no-fund
fi

# --- 1d. the client library's unit tests ---------------------------------------
log "client library unit tests (node --test tests/js/)"
start=$SECONDS
rc0=0
node --test tests/js/ || rc0=$?
time0=$((SECONDS - start))

# --- 2. services -------------------------------------------------------------
# shellcheck source=scripts/services.sh
source scripts/services.sh

cleanup() {
    local rc=$?
    svc_stop_all
    return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n "${DATABASE_URL:-}" ]]; then
    log "using DATABASE_URL from the environment"
else
    log "starting a private PostgreSQL"
    svc_start_postgres
fi
if [[ -n "${REDIS_URL:-}" ]]; then
    log "using REDIS_URL from the environment"
else
    log "starting a private Redis"
    svc_start_redis
fi

# --- 3./4. pytest runs ---------------------------------------------------------
workers=${SOHBET_TEST_WORKERS:-$(nproc 2>/dev/null || echo 1)}
((workers > 4)) && workers=4
parallel=()
# A file's tests stay on one worker: they share its browser and servers.
((workers > 1)) && parallel=(-n "$workers" --dist loadfile)

pytest_guarded() {
    # In CI a hung run must not eat the whole job: bound it, and interrupt with
    # SIGINT so pytest still prints what it was doing.
    if [[ "${CI:-}" == true ]] && command -v timeout >/dev/null; then
        timeout --foreground --signal=INT --kill-after=60 "${SOHBET_PYTEST_TIMEOUT:-1800}" "$PY" -m pytest "$@"
    else
        "$PY" -m pytest "$@"
    fi
}

# Never print a password that came in through the environment.
mask() { sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#' <<<"$1"; }
log "run 1/2: whole suite against PostgreSQL + Redis ($(mask "$DATABASE_URL"), $(mask "$REDIS_URL")), $workers worker(s)"
start=$SECONDS
rc1=0
pytest_guarded "${parallel[@]}" --durations=10 "$@" || rc1=$?
time1=$((SECONDS - start))
if ((rc1 == 5)); then
    echo "run 1: no tests were collected: that is a failure" >&2
elif ((rc1 == 124)); then
    echo "run 1: stopped after ${SOHBET_PYTEST_TIMEOUT:-1800} s (SOHBET_PYTEST_TIMEOUT)" >&2
fi
if ((rc1 != 0)); then
    svc_save_logs test-results/services
fi

# Run 2 needs neither service: free them now.
svc_stop_all

log "run 2/2: non-browser, non-postgres_redis tests against the embedded defaults (SQLite, in-memory layer)"
start=$SECONDS
rc2=0
(
    unset DATABASE_URL REDIS_URL
    pytest_guarded "${parallel[@]}" -m "not browser and not postgres_redis" "$@"
) || rc2=$?
time2=$((SECONDS - start))
if ((rc2 == 5)) && (($# > 0)); then
    echo "run 2: no tests matched the extra arguments ($*): not a failure" >&2
    rc2=0
elif ((rc2 == 124)); then
    echo "run 2: stopped after ${SOHBET_PYTEST_TIMEOUT:-1800} s (SOHBET_PYTEST_TIMEOUT)" >&2
fi

log "summary"
printf '  client library unit tests (node --test): %s (%d s)\n' \
    "$([[ $rc0 == 0 ]] && echo passed || echo "FAILED, node exit $rc0")" "$time0" >&2
printf '  run 1 (PostgreSQL + Redis, whole suite): %s (%d s)\n' \
    "$([[ $rc1 == 0 ]] && echo passed || echo "FAILED, pytest exit $rc1")" "$time1" >&2
printf '  run 2 (embedded defaults, not browser/postgres_redis): %s (%d s)\n' \
    "$([[ $rc2 == 0 ]] && echo passed || echo "FAILED, pytest exit $rc2")" "$time2" >&2

((rc0 == 0 && rc1 == 0 && rc2 == 0))
