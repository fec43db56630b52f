#!/usr/bin/env bash
# The one test command: installs what is missing on a Debian/Ubuntu machine,
# starts what is needed, then runs formatting, lints, every cargo test and the
# checks in scripts/checks/. CI runs exactly this (.ci/run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
cd "$ROOT"
source scripts/lib/setup.sh
# Incremental caches only help when iterating; on a one-off CI run they are
# gigabytes of disk for nothing.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

log "checking tools"
command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup first"
need_apt python3 python3
need_apt psql postgresql postgresql-client
need_apt chromium chromium
need_apt chromedriver chromium-driver
need_apt promtool prometheus
need_apt prometheus-alertmanager prometheus-alertmanager
need_apt curl curl
# HAProxy is the Service in front of the fleet's replicas; Debian puts it in
# /usr/sbin, which a non-root PATH may lack.
[ -x /usr/sbin/haproxy ] || need_apt haproxy haproxy

source scripts/lib/postgres.sh
ensure_postgres

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "cargo test (PostgreSQL at $TEST_DATABASE_URL)"
cargo test --workspace

for check in scripts/checks/*.sh; do
    [ -e "$check" ] || continue
    log "check: $(basename "$check" .sh)"
    bash "$check"
done
log "all tests and checks passed (target/ holds $(du -sh target/ | cut -f1))"
