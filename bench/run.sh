#!/usr/bin/env bash
# The benchmark suite: builds in release, starts the reference handler and the
# shop on SQLite and on PostgreSQL, measures with wrk on loopback, and writes
# bench/results/results.{json,md} and the README's performance section.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
cd "$ROOT"
source scripts/lib/setup.sh

usage() {
    cat <<'USAGE'
Usage: bench/run.sh [--quick] [BENCH OPTIONS...]

Measures the shop on loopback with wrk and publishes the results:
bench/results/results.json, bench/results/results.md and the table in
README.md's "Performance" section. Takes about 14 minutes with the defaults
(3 rounds of 10 s runs); the machine should be otherwise idle.

  --quick   1 round of 3 s runs, written to /tmp/shop-bench-quick only:
            a check that everything runs, not a measurement to publish.
  --help    this text, then the options of the bench binary, which are
            passed through (--rounds, --duration, --connections, ...).

Installs wrk and PostgreSQL with apt-get when missing (as root), and uses
the PostgreSQL at $TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)
or starts a throwaway one.
USAGE
}

publish=(--output bench/results --readme README.md)
args=()
for arg in "$@"; do
    case "$arg" in
        -h|--help) usage; echo; cargo run --quiet --release -p bench --bin bench -- --help; exit 0 ;;
        --quick) publish=(--output "${TMPDIR:-/tmp}/shop-bench-quick" --rounds 1 --duration 3 --starts 3 --telemetry-pairs 2 --telemetry-seconds 1) ;;
        *) args+=("$arg") ;;
    esac
done

need_apt python3 python3
need_apt wrk wrk
need_apt psql postgresql postgresql-client
source scripts/lib/postgres.sh
ensure_postgres

log "building the shop, loadgen and the reference handler in release"
cargo build --release --quiet -p shop -p loadgen -p bench

log "measuring (progress below; each figure is a median over the rounds)"
target/release/bench --binaries target/release --postgres "$TEST_DATABASE_URL" \
    "${publish[@]}" "${args[@]}"
