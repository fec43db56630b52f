#!/bin/sh
# Restores the shop's database from a pg_dump archive: restore.sh [DUMP]
# (or $DUMP; default: the newest shop-*.dump in BACKUP_DIR). Connection from libpq's
# variables; PGDATABASE is the database to replace.
#
# The existing database stays untouched until the dump has been read back
# and restored completely into a scratch database; only then are the two
# swapped, and the replaced one is kept as <db>_before_restore until the
# next restore. A missing, corrupt or truncated dump exits 2 with a message
# and changes nothing; a failed restore exits 1 and changes nothing.
set -eu
db=${PGDATABASE:?PGDATABASE names the database to restore}
command -v pg_restore >/dev/null || { echo "restore: pg_restore not found (Debian package postgresql-client)" >&2; exit 2; }
if [ $# -gt 0 ]; then
    dump=$1
elif [ -n "${DUMP:-}" ]; then
    dump=$DUMP
else
    dump=$(ls -1 "${BACKUP_DIR:?BACKUP_DIR or an argument names the dump}"/shop-*.dump 2>/dev/null | sort | tail -n 1 || true)
    [ -n "$dump" ] || { echo "restore: no shop-*.dump in $BACKUP_DIR; $db is untouched" >&2; exit 2; }
fi
[ -f "$dump" ] || { echo "restore: $dump: no such dump; $db is untouched" >&2; exit 2; }
if ! pg_restore --list "$dump" >/dev/null 2>&1; then
    echo "restore: $dump is not a readable pg_dump archive (corrupt or truncated); $db is untouched" >&2
    exit 2
fi

scratch="${db}_restoring"
old="${db}_before_restore"
admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
admin -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" -c "CREATE DATABASE \"$scratch\""
if ! pg_restore --no-owner --no-privileges --exit-on-error --dbname="$scratch" "$dump"; then
    admin -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)"
    echo "restore: restoring $dump failed; $db is untouched" >&2
    exit 1
fi

exists=$(admin -tA -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")
admin -c "DROP DATABASE IF EXISTS \"$old\" WITH (FORCE)"
if [ "$exists" = 1 ]; then
    # No new sessions, then none left: a database in use cannot be renamed.
    admin -c "ALTER DATABASE \"$db\" WITH ALLOW_CONNECTIONS false" \
        -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db'" >/dev/null \
        -c "ALTER DATABASE \"$db\" RENAME TO \"$old\"" \
        -c "ALTER DATABASE \"$old\" WITH ALLOW_CONNECTIONS true"
fi
admin -c "ALTER DATABASE \"$scratch\" RENAME TO \"$db\""
echo "restore: $db restored from $dump"
