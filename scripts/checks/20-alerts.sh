#!/usr/bin/env bash
# Checks of the alerts crate that are not cargo tests: promtool on the
# committed rule files and their unit-test suites, amtool on the example
# Alertmanager config and its routing. (`cargo test -p alerts` runs promtool
# too, on freshly generated rules for every period, and the live test.)
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$ROOT/scripts/lib/setup.sh"

need_apt promtool prometheus
need_apt amtool prometheus-alertmanager

cd "$ROOT/alerts"

log "promtool check rules alerts/generated/"
promtool check rules generated/*.yaml

log "promtool test rules alerts/tests/promtool/"
promtool test rules tests/promtool/*.yaml

log "amtool check-config alerts/alertmanager.yml"
amtool check-config alertmanager.yml
for route in page:shop-pager ticket:shop-tickets; do
    severity=${route%%:*} receiver=${route#*:}
    amtool config routes test --config.file=alertmanager.yml --verify.receivers="$receiver" \
        severity="$severity" team=shop >/dev/null 2>&1 \
        || die "alertmanager.yml routes severity=$severity to another receiver than $receiver"
done
log "alerts: rules, rule tests and alertmanager routing OK"
