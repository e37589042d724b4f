# Shared set-up for tools/run and tools/test: sourced, not executed.
# Every step is idempotent: a second run reuses the virtualenv, PostgreSQL and the
# addons link made by the first.
set -euo pipefail

ADDON_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${CRM_OUTBOUND_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crm_outbound}
PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
PG_USER=${PGUSER:-$(id -un)}

say() { printf '\033[1m[crm_outbound]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[crm_outbound] %s\033[0m\n' "$*" >&2; exit 2; }

check_odoo_path() {
    local hint="Set ODOO_PATH to the root of an Odoo 19.0 or 18.0 source tree (the folder
that holds odoo-bin, odoo/ and addons/), e.g.
    git clone --depth 1 --branch 19.0 https://github.com/odoo/odoo /opt/odoo/19.0
or, on a machine with no access to GitHub, copy such a tree there by other means."
    [ -n "${ODOO_PATH:-}" ] || die "ODOO_PATH is not set. $hint"
    [ -f "$ODOO_PATH/odoo-bin" ] && [ -f "$ODOO_PATH/odoo/release.py" ] && [ -d "$ODOO_PATH/addons/crm" ] \
        || die "ODOO_PATH=$ODOO_PATH is not an Odoo source tree (no odoo-bin, odoo/release.py or addons/crm). $hint"
    ODOO_PATH=$(cd "$ODOO_PATH" && pwd)
    ODOO_SERIES=$(sed -n "s/^version_info = (\([0-9]*\), \([0-9]*\).*/\1.\2/p" "$ODOO_PATH/odoo/release.py")
    case "$ODOO_SERIES" in
        18.0|19.0) ;;
        *) die "ODOO_PATH=$ODOO_PATH holds Odoo '$ODOO_SERIES'; crm_outbound runs on 19.0 and 18.0. $hint" ;;
    esac
}

# A virtualenv per Odoo series and requirements, outside the clone, so that every fresh
# clone on the same machine reuses it.
ensure_venv() {
    local reqs_hash
    reqs_hash=$(cat "$ODOO_PATH/requirements.txt" "$ADDON_DIR/tools/requirements-dev.txt" | sha1sum | cut -c1-10)
    VENV=${CRM_OUTBOUND_VENV:-$CACHE_DIR/venv-$ODOO_SERIES-$reqs_hash}
    if [ ! -f "$VENV/.complete" ]; then
        say "Creating the Python environment $VENV (once per Odoo series)"
        command -v python3 >/dev/null || die "python3 is not installed"
        rm -rf "$VENV"
        python3 -m venv "$VENV"
        # Old pins (cbor2 on 18.0) build from source with setuptools' pkg_resources, gone
        # in setuptools 81: cap setuptools in pip's isolated build environments too.
        echo 'setuptools<81' > "$VENV/build-constraints.txt"
        export PIP_BUILD_CONSTRAINT="$VENV/build-constraints.txt"
        "$VENV/bin/pip" install -q --upgrade 'pip>=25.3' wheel 'setuptools<81'
        # python-ldap needs system headers and serves only the auth_ldap addon.
        grep -v -i '^python-ldap' "$ODOO_PATH/requirements.txt" > "$VENV/odoo-requirements.txt"
        "$VENV/bin/pip" install -q -r "$VENV/odoo-requirements.txt" -r "$ADDON_DIR/tools/requirements-dev.txt"
        touch "$VENV/.complete"
    fi
    PY="$VENV/bin/python"
}

ensure_postgres() {
    if command -v pg_isready >/dev/null && pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
        return
    fi
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        say "Starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "Installing PostgreSQL from the Debian packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && return
        sleep 1
    done
    die "PostgreSQL does not answer on $PG_HOST:$PG_PORT; start it, or set PGHOST/PGPORT/PGUSER."
}

# Browser tests need Chromium; without it Odoo skips them, which the test command refuses.
ensure_chromium() {
    if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
        return
    fi
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "Installing Chromium for the browser tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        die "Chromium is needed for the browser tests: install the 'chromium' package."
    fi
}

# Odoo finds an addon by its folder name, and a clone may be named anything.
ensure_addons_link() {
    ADDONS_LINK_DIR="$CACHE_DIR/addons-$(printf '%s' "$ADDON_DIR" | sha1sum | cut -c1-10)"
    mkdir -p "$ADDONS_LINK_DIR"
    ln -sfn "$ADDON_DIR" "$ADDONS_LINK_DIR/crm_outbound"
    ADDONS_PATH="$ODOO_PATH/addons,$ADDONS_LINK_DIR"
}

odoo_db_args() {
    printf -- '--db_host=%s --db_port=%s --db_user=%s --addons-path=%s' \
        "$PG_HOST" "$PG_PORT" "$PG_USER" "$ADDONS_PATH"
}

# Demo data is the default on 18.0 and opt-in on 19.0.
odoo_demo_flag() {
    if [ "$ODOO_SERIES" = "19.0" ]; then printf -- '--with-demo'; fi
}

ensure_pg_role() {
    # Trust authentication: the current OS user needs a role that may create databases.
    if ! psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        say "Creating the PostgreSQL role $PG_USER"
        su postgres -c "createuser -s $PG_USER" 2>/dev/null || sudo -u postgres createuser -s "$PG_USER" \
            || die "Cannot connect to PostgreSQL as $PG_USER; create that role (createuser -s $PG_USER)."
    fi
}

setup_all() {
    check_odoo_path
    ensure_postgres
    ensure_pg_role
    ensure_venv
    ensure_addons_link
}
