#!/bin/sh
# Backs up the shop's database with pg_dump into BACKUP_DIR, keeping the
# BACKUP_KEEP newest dumps. Connection from libpq's variables (PGHOST, PGPORT,
# PGUSER, PGPASSWORD, PGSSLMODE, PGDATABASE). A dump appears under its final
# name only once pg_restore can read it back, so a restore never picks up a
# half-written file. Run by the postgres-backup CronJob and the local drill.
set -eu
db=${PGDATABASE:?PGDATABASE names the database to back up}
dir=${BACKUP_DIR:?BACKUP_DIR names the directory the dumps go to}
keep=${BACKUP_KEEP:-7}
case $keep in '' | *[!0-9]* | 0) echo "backup: BACKUP_KEEP must be a whole number above 0, got '$keep'" >&2; exit 2 ;; esac
command -v pg_dump >/dev/null || { echo "backup: pg_dump not found (Debian package postgresql-client)" >&2; exit 2; }
mkdir -p "$dir"
stamp=$(date -u +%Y%m%dT%H%M%S.%NZ)
partial="$dir/.shop-$stamp.dump.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --no-owner --no-privileges --file="$partial" "$db"
pg_restore --list "$partial" >/dev/null
mv "$partial" "$dir/shop-$stamp.dump"
echo "backup: $dir/shop-$stamp.dump ($(wc -c <"$dir/shop-$stamp.dump") bytes)"
# Dump names sort by time: delete all but the newest $keep.
ls -1 "$dir"/shop-*.dump | sort | head -n "-$keep" | while read -r old; do
    rm -f -- "$old" && echo "backup: removed $old"
done
