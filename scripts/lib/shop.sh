# start_shop NAME DATABASE_URL: runs target/debug/shop (built by cargo test)
# on free loopback ports in the background; sets SHOP_URL and SHOP_ADMIN_URL,
# and stops it when the calling script exits.

start_shop() {
    local name=$1 database_url=$2 port admin_port log
    port=$(free_port)
    admin_port=$(free_port)
    log="$ROOT/target/check-logs/$name.log"
    mkdir -p "$(dirname "$log")"
    [ -x "$ROOT/target/debug/shop" ] || cargo build --quiet -p shop
    SHOP_LISTEN="127.0.0.1:$port" SHOP_ADMIN_LISTEN="127.0.0.1:$admin_port" \
        DATABASE_URL="$database_url" SHOP_RATE_LIMIT=off SHOP_ADMIN_TOKEN=check-token \
        "$ROOT/target/debug/shop" >"$log" 2>&1 &
    SHOP_PIDS="${SHOP_PIDS:-} $!"
    trap 'kill $SHOP_PIDS 2>/dev/null || true' EXIT
    SHOP_URL="http://127.0.0.1:$port"
    SHOP_ADMIN_URL="http://127.0.0.1:$admin_port"
    for _ in $(seq 100); do
        curl -fsS "$SHOP_ADMIN_URL/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "the shop ($name) did not become ready; its log: $log"
}

# A fresh, empty PostgreSQL database on the test server; prints its URL.
fresh_postgres_database() {
    local name="shop_check_$(date +%s)_$RANDOM"
    psql "$TEST_DATABASE_URL" -qc "CREATE DATABASE $name" >/dev/null || die "could not create database $name"
    echo "${TEST_DATABASE_URL%/*}/$name"
}
