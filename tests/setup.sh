# Sourced by tests/run and tests/bench/run: the one place that installs what the tests need.
# Debian packages (as root), the project in .venv, and test-only servers in their own venvs.
# Every run needs the Debian packages and .venv; the other parts only some test folders need
# (PART_FOLDERS), so `tests/run tests/unit -x` skips the gateway venv and mongosh. A run that
# names no path, or a path outside those folders, sets up everything (CI runs `tests/run`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(
    mariadb-server mariadb-client       # SQL tests (mariadbd started by the suite)
    postgresql postgresql-client        # PostgreSQL tests (initdb + postgres started by the suite), psql and pg_dump as references
    sqlite3                             # reference CLI for the SQLite tests (.schema)
    redis-server redis-tools            # Redis tests, redis-cli for the pipe benchmark
    memcached                           # memcache tests
    openssh-server openssh-client       # SSH tests (sshd started by the suite)
    sudo                                # sudo on the SSH test hosts (rules made by tests/servers/sshd.py)
    tarantool                           # queue tests
    nmap pssh                           # reference tools for the scan and fan-out benchmarks
    less procps iproute2                # pager, ps, ip
    openssl                             # throwaway certificates for the TLS tests (rediss://)
    zip unzip                           # reference archivers for the archive tests
    python3-venv                        # the ClusterShell gateway's virtualenv (system Python)
)
MONGO_SERVER_PIN="secantusdb==0.7.0b3"   # MongoDB-wire test server (GPL-2.0: run, never imported)
MONGOSH_PIN="mongosh@2"                  # reference client (npm), the oracle for Mongo mode
GATEWAY_PIN="clustershell==1.10.1"       # what the test gateway runs (`python -m ClusterShell.Gateway`)

# The optional parts, in the order they are set up, and the test folders (under tests/) that
# need each: what their tests use from tests/servers/gateway.py, tests/servers/mongo.py and
# mongosh (tests/unit/test_setup_parts.py checks these lists against the tests themselves).
OPTIONAL_PARTS=(gateway_env mongo_server mongosh)
declare -A PART_FOLDERS=(
    [gateway_env]="ssh e2e"
    [mongo_server]="unit connect many mongo reconnect scripts"
    [mongosh]="mongo"
)
INSTALL_SPEC='.[test,fleet,fast]'        # what .venv holds: opsh (editable) and its extras

log() { printf '[setup] %s\n' "$*" >&2; }

install_debian_packages() {
    local missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        log "missing Debian packages: ${missing[*]} (run as root, or install them)"
        return 1
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_env_ready() {
    # Isolated (-I): the checkout's own opsh/ must not stand in for the install.
    .venv/bin/python -I -c "import importlib.util as u, sys
sys.exit(not all(u.find_spec(n) for n in ('opsh.shell', 'pytest', 'pexpect', 'hypothesis', 'ClusterShell', '_mysql_connector')))" 2>/dev/null
}

install_python_env() {
    # pip runs only when pyproject.toml (dependencies, package list) changed since the last
    # install, or the install is broken: an editable install picks up source changes by itself.
    local stamp=.venv/opsh-install.stamp want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) $INSTALL_SPEC"
    if [ ! -x .venv/bin/python ]; then
        log "creating .venv"
        python3 -m venv .venv
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && python_env_ready; then
        return 0
    fi
    log "installing opsh, its fleet extra and the test dependencies into .venv"
    rm -f "$stamp"
    .venv/bin/pip install -q -e "$INSTALL_SPEC" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
    python_env_ready || { log "the .venv install failed"; return 1; }
    printf '%s\n' "$want" >"$stamp"
}

others_can_reach() {
    # Every directory from / down to $1 lets other users through (o+x).
    local dir="$1"
    while [ "$dir" != "/" ]; do
        [ "$(( 0$(stat -c %a "$dir") & 1 ))" -eq 1 ] || return 1
        dir="$(dirname "$dir")"
    done
}

install_gateway_env() {
    # The test gateway host logs in as the SSH test user, who must be able to run this
    # Python: it is built from the system interpreter (ours may live under /root, closed to
    # other users), never from .venv's, and outside the checkout when other users cannot
    # reach into it.
    local python=/usr/bin/python3
    [ -x "$python" ] || python="$(command -v python3)"
    GATEWAY_VENV="$ROOT/.venv-gateway"
    if ! others_can_reach "$ROOT"; then
        GATEWAY_VENV="/var/tmp/opsh-gateway-venv-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    fi
    if [ ! -x "$GATEWAY_VENV/bin/python3" ] || ! "$GATEWAY_VENV/bin/python3" -c "import ClusterShell" 2>/dev/null; then
        log "building the gateway's virtualenv ($GATEWAY_VENV, $GATEWAY_PIN) from $python"
        rm -rf "$GATEWAY_VENV"
        "$python" -m venv "$GATEWAY_VENV"
        "$GATEWAY_VENV/bin/pip" install -q "$GATEWAY_PIN" 2>&1 | grep -v "is ignored" >&2 || true
    fi
    "$GATEWAY_VENV/bin/python3" -c "import ClusterShell.Gateway" || { log "the gateway virtualenv is broken"; return 1; }
    export OPSH_GATEWAY_VENV="$GATEWAY_VENV"
}

install_mongo_server() {
    if [ ! -x .venv-testsrv/bin/secantusd-py ]; then
        log "installing the MongoDB-wire test server ($MONGO_SERVER_PIN) into .venv-testsrv"
        python3 -m venv .venv-testsrv
        .venv-testsrv/bin/pip install -q "$MONGO_SERVER_PIN" 2>&1 | grep -v "is ignored" >&2 || true
    fi
    [ -x .venv-testsrv/bin/secantusd-py ] || { log "secantusd-py did not install"; return 1; }
}

install_mongosh() {
    if ! command -v npm >/dev/null; then
        # The machine image ships Node 20 with npm; Debian's own packages are the fallback.
        log "installing Debian packages: nodejs npm"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    if [ ! -x .node/node_modules/.bin/mongosh ]; then
        log "installing $MONGOSH_PIN into .node (reference client for the Mongo tests)"
        mkdir -p .node
        (cd .node && npm install --no-audit --no-fund --loglevel=error "$MONGOSH_PIN" >/dev/null)
    fi
    [ -x .node/node_modules/.bin/mongosh ] || { log "mongosh did not install"; return 1; }
}

selected_folders() {
    # The test folders that pytest arguments select (`unit` for tests/unit/test_x.py::name), or
    # `all` when they name no path or a path outside a test folder. A word that is not an
    # existing path is an option or its value (-x, -k EXPR, -p no:cacheprovider): it selects
    # nothing. Paths are taken from the repository root, where pytest runs.
    local arg path folders=()
    for arg in "$@"; do
        path="${arg%%::*}"
        [[ "$arg" == -* || ! -e "$path" ]] && continue
        path="$(realpath -m --relative-to="$ROOT" "$path")"
        if [[ "$path" =~ ^tests/([^/]+) ]] && [ -d "tests/${BASH_REMATCH[1]}" ]; then
            folders+=("${BASH_REMATCH[1]}")
        else
            echo all
            return 0
        fi
    done
    [ ${#folders[@]} -gt 0 ] && echo "${folders[@]}" || echo all
}

parts_for() {
    # The optional parts that a run with these pytest arguments needs, one per line.
    local folders part folder
    folders=" $(selected_folders "$@") "
    for part in "${OPTIONAL_PARTS[@]}"; do
        for folder in all ${PART_FOLDERS[$part]}; do
            if [[ "$folders" == *" $folder "* ]]; then
                echo "$part"
                break
            fi
        done
    done
}

setup_for() {
    # What the tests that these pytest arguments select need; no arguments: everything.
    local part needed skipped=()
    install_debian_packages
    install_python_env
    needed=" $(parts_for "$@" | tr '\n' ' ') "
    for part in "${OPTIONAL_PARTS[@]}"; do
        if [[ "$needed" == *" $part "* ]]; then
            "install_$part"
        else
            skipped+=("$part")
        fi
    done
    [ ${#skipped[@]} -eq 0 ] || log "not needed by the selected tests, not set up: ${skipped[*]}"
    export OPSH_TEST_ROOT="$ROOT"
    export OPSH_MONGO_SERVER="$ROOT/.venv-testsrv/bin/secantusd-py"
    export OPSH_MONGOSH="$ROOT/.node/node_modules/.bin/mongosh"
}

setup_all() {
    setup_for
}

install_reference_tools() {
    # mycli, iredis and pgcli, only for the benchmarks, in their own venv (their pins must not
    # constrain opsh's own dependencies).
    if [ ! -x .venv-ref/bin/mycli ] || [ ! -x .venv-ref/bin/iredis ] || [ ! -x .venv-ref/bin/pgcli ]; then
        log "installing reference tools (mycli, iredis, pgcli) into .venv-ref"
        python3 -m venv .venv-ref
        .venv-ref/bin/pip install -q mycli iredis pgcli 2>&1 | grep -v "is ignored" >&2 || true
    fi
    [ -x .venv-ref/bin/mycli ] && [ -x .venv-ref/bin/iredis ] && [ -x .venv-ref/bin/pgcli ] ||
        { log "mycli/iredis/pgcli did not install"; return 1; }
    # mysqlclient and MariaDB Connector/Python (C drivers with no Linux wheel), only for the SQL
    # benchmark's table of drivers; they build from source against the client library's headers
    # (installed here when we are root).
    if ! command -v mariadb_config >/dev/null && [ "$(id -u)" -eq 0 ]; then
        log "installing Debian packages: libmariadb-dev pkg-config build-essential (to build the C drivers)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            libmariadb-dev pkg-config build-essential >/dev/null || log "no build tools for the C drivers (optional)"
    fi
    local driver module
    for driver in mysqlclient:MySQLdb mariadb:mariadb; do
        module="${driver#*:}"
        driver="${driver%%:*}"
        if command -v mariadb_config >/dev/null && ! .venv-ref/bin/python -c "import $module" 2>/dev/null; then
            .venv-ref/bin/pip install -q "$driver" 2>&1 | grep -v "is ignored" >&2 || true
            .venv-ref/bin/python -c "import $module" 2>/dev/null || log "$driver did not build (optional)"
        fi
    done
    export OPSH_REF_BIN="$ROOT/.venv-ref/bin"
}
