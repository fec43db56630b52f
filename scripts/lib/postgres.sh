# ensure_postgres: export TEST_DATABASE_URL pointing at a PostgreSQL server
# whose user can create databases. Uses the one that answers (default
# postgres://postgres@127.0.0.1:5432), else starts a throwaway cluster on a
# free port, stopped when the test command exits.

ensure_postgres() {
    export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    if psql "$TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
        return 0
    fi
    log "no PostgreSQL answers at $TEST_DATABASE_URL: starting a throwaway one"
    local bindir port dir
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$bindir/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    port=$(free_port)
    dir=$(mktemp -d /tmp/shop-pg.XXXXXX)
    chmod 755 "$dir"
    # initdb refuses to run as root; the postgres package created this user.
    local run=()
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; run=(runuser -u postgres --); fi
    "${run[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null
    trap "${run[*]} $bindir/pg_ctl -D $dir/data -m fast stop >/dev/null 2>&1; rm -rf $dir" EXIT
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    psql "$TEST_DATABASE_URL" -Atqc 'select 1' >/dev/null || die "the throwaway PostgreSQL did not start (log: $dir/log)"
}
