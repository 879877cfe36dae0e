#!/usr/bin/env bash
# Run a command (the test suite) with a throwaway PostgreSQL server on loopback, for the suite's
# PostgreSQL leg: installs Debian's server if it is missing, starts a cluster in a temporary folder
# on a free port with a random password, exports CALENDLY_ELT_TEST_POSTGRES_URL (a superuser URL;
# the tests create one database each), runs the command and stops the server, whatever the outcome.
# Where the server cannot start, it exports CALENDLY_ELT_TEST_POSTGRES_SKIP with the reason instead:
# the PostgreSQL tests then skip with that message (or fail, if CALENDLY_ELT_REQUIRE_POSTGRES=1).
set -uo pipefail

skip() {
    echo "with_postgres: PostgreSQL leg skipped: $1" >&2
    export CALENDLY_ELT_TEST_POSTGRES_SKIP="$1"
    exec "${command[@]}"
}
command=("$@")
[ $# -gt 0 ] || { echo "usage: tests/with_postgres.sh COMMAND [ARG...]" >&2; exit 2; }

if [ -n "${CALENDLY_ELT_TEST_POSTGRES_URL:-}" ]; then exec "${command[@]}"; fi  # a server of the caller's own

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bindir)" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "with_postgres: installing Debian's postgresql package" >&2
        export DEBIAN_FRONTEND=noninteractive
        { apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1 ||
          { apt-get update -q >/dev/null 2>&1 &&
            apt-get install -y -q --no-install-recommends postgresql >/dev/null 2>&1; }; } ||
            skip "apt-get install postgresql failed"
    fi
fi
bin=$(bindir)
[ -n "$bin" ] || skip "no PostgreSQL server installed (Debian's package postgresql), and no root with apt-get to install it"

# initdb and postgres refuse to run as root: as root, the cluster belongs to the `postgres` user.
as_owner=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_owner=(runuser -u postgres --)
fi

cluster=$(mktemp -d "${TMPDIR:-/tmp}/calendly-elt-pg.XXXXXX")
password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' "$password" >"$cluster/pwfile"
chmod 700 "$cluster"
[ ${#as_owner[@]} -eq 0 ] || chown -R postgres "$cluster"

stop() {
    [ -d "$cluster" ] || return 0
    [ -f "$cluster/data/postmaster.pid" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1
    rm -rf "$cluster"
}
# Interrupted (Ctrl-C, a CI time-out): the server is detached from us, so stop it on the way out too.
trap stop EXIT
trap 'exit 130' INT TERM

if ! "${as_owner[@]}" "$bin/initdb" -D "$cluster/data" -U calendly_elt --pwfile="$cluster/pwfile" \
        --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$cluster/initdb.log" 2>&1; then
    reason="initdb failed: $(tail -n 1 "$cluster/initdb.log")"
    stop
    skip "$reason"
fi
# Loopback only, a socket in the cluster's folder; durability off: the cluster is thrown away. Not in
# UTC, as many servers are not: SQL that depends on the session's time zone shows in the tests.
if ! "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=America/New_York" \
        start >/dev/null 2>&1; then
    reason="the server did not start: $(tail -n 1 "$cluster/server.log" 2>/dev/null)"
    stop
    skip "$reason"
fi
echo "with_postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2

export CALENDLY_ELT_TEST_POSTGRES_URL="postgresql://calendly_elt:$password@127.0.0.1:$port/postgres"
"${command[@]}"
