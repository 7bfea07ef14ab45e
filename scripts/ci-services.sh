#!/usr/bin/env bash
# Start the services the test suite needs, on loopback only.  Idempotent.
# Writes .ci/env with the variables the tests read.
#
# PostgreSQL: installed from Debian's packages when missing, run as its own
# cluster ("gosplan", port $GOSPLAN_CI_PG_PORT, default 5433) listening on
# 127.0.0.1 only, with a password-authenticated role that may create the
# throw-away databases the tests use.  Must run as root (or with sudo
# rights) on a Debian/Ubuntu machine; a second run finds everything in place.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .ci

PORT="${GOSPLAN_CI_PG_PORT:-5433}"
CLUSTER="${GOSPLAN_CI_PG_CLUSTER:-gosplan}"
ROLE="gosplan_ci"
PASSWORD="gosplan_ci"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

log() { echo "services: $*"; }

# --- 1. packages -----------------------------------------------------------
if ! command -v pg_createcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # --no-install-recommends keeps it small; postgresql-contrib is part of
    # the server package on current Debian (pgbench ships with the server).
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
# Chromium for the browser tests (Playwright drives the distribution's build).
if [ ! -x /usr/bin/chromium ]; then
    log "installing Chromium from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
BIN="/usr/lib/postgresql/$VERSION/bin"

# --- 2. our own cluster on loopback ----------------------------------------
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$VERSION $CLUSTER"; then
    log "creating cluster $VERSION/$CLUSTER on 127.0.0.1:$PORT"
    $SUDO pg_createcluster "$VERSION" "$CLUSTER" -p "$PORT" >/dev/null
fi
CONF="/etc/postgresql/$VERSION/$CLUSTER/conf.d/gosplan-ci.conf"
if [ ! -f "$CONF" ]; then
    printf "%s\n" "listen_addresses = '127.0.0.1'" "max_connections = 200" \
        | $SUDO tee "$CONF" >/dev/null
fi
STATUS="$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1==v && $2==c {print $4}')"
if [ "$STATUS" != "online" ]; then
    log "starting cluster $VERSION/$CLUSTER"
    $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start
fi
for _ in $(seq 1 60); do
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
        break
    fi
    sleep 0.5
done
"$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" >/dev/null || {
    log "PostgreSQL did not come up on 127.0.0.1:$PORT"; exit 1; }

# --- 3. a role for the tests (may create and drop databases) ---------------
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}
as_postgres "$BIN/psql" -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$PORT" -d postgres <<SQL >/dev/null
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
        CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
    END IF;
END
\$\$;
SQL

URL="postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/postgres"
{
    echo "export GOSPLAN_TEST_POSTGRES_URL=$URL"
    echo "export GOSPLAN_TEST_PGBENCH=$BIN/pgbench"
} > .ci/env
log "PostgreSQL $VERSION on 127.0.0.1:$PORT (role $ROLE); wrote .ci/env"
