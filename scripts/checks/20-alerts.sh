#!/usr/bin/env bash
# Checks of the alerts crate that are not cargo tests: promtool on the
# committed rule files and their unit-test suites, amtool on the Alertmanager
# config, its routing, and the copy the cluster gets. (`cargo test -p alerts` runs promtool
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
# receiver and the labels of an alert that must reach it
routes=(
    "shop-pager:severity=page team=shop alertname=ShopDown"
    "shop-pager:severity=page team=shop alertname=ShopOrdersStopped category=business"
    "shop-tickets:severity=ticket team=shop alertname=ShopInstanceDown"
    "shop-tickets:severity=ticket team=shop alertname=ShopRevenueBelowLastWeek category=business"
    "null:alertname=Watchdog severity=none"
)
for route in "${routes[@]}"; do
    receiver=${route%%:*} labels=${route#*:}
    # shellcheck disable=SC2086 # the labels are separate arguments
    amtool config routes test --config.file=alertmanager.yml --verify.receivers="$receiver" \
        $labels >/dev/null 2>&1 \
        || die "alertmanager.yml routes {$labels} to another receiver than $receiver"
done

# The cluster gets this very file: Terraform passes it to the chart...
grep -q 'file("${path.module}/../../../alerts/alertmanager.yml")' "$ROOT/terraform/modules/monitoring/main.tf" \
    || die "terraform/modules/monitoring no longer hands alerts/alertmanager.yml to kube-prometheus-stack"
# ...and the kustomize component carries alertmanager.yml as it
# is, and what it renders is a configuration Alertmanager loads.
component=k8s/components/alertmanager-routing
cmp -s alertmanager.yml "$ROOT/$component/alertmanager.yaml" \
    || die "$component/alertmanager.yaml differs from alerts/alertmanager.yml: cp alerts/alertmanager.yml $component/alertmanager.yaml"
if command -v kubectl >/dev/null; then
    log "kubectl kustomize $component + amtool check-config on the Secret it renders"
    check="$ROOT/target/alertmanager-routing-check"
    rm -rf "$check" && mkdir -p "$check"
    printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncomponents:\n  - ../../%s\n' \
        "$component" > "$check/kustomization.yaml"
    kubectl kustomize "$check" > "$check/rendered.yaml"
    python3 - "$check/rendered.yaml" "$check/alertmanager.yaml" <<'PYEOF'
import base64, sys
# The one Secret, without PyYAML: kustomize writes `  alertmanager.yaml: <base64>`
# or a block scalar (`|`) of base64 lines below it.
lines = open(sys.argv[1]).read().splitlines()
for i, line in enumerate(lines):
    key, _, value = line.strip().partition(":")
    if key == "alertmanager.yaml":
        value = value.strip()
        if value in ("|", "|-"):
            indent = len(lines[i + 1]) - len(lines[i + 1].lstrip())
            block = []
            for l in lines[i + 1:]:
                if len(l) - len(l.lstrip()) < indent or not l.strip():
                    break
                block.append(l.strip())
            value = "".join(block)
        open(sys.argv[2], "wb").write(base64.b64decode(value))
        break
else:
    sys.exit("the component renders no alertmanager.yaml key")
PYEOF
    grep -q "name: shop-alertmanager-config" "$check/rendered.yaml" || die "$component renders no Secret shop-alertmanager-config"
    grep -q "namespace: monitoring" "$check/rendered.yaml" || die "$component's Secret is not in the monitoring namespace"
    amtool check-config "$check/alertmanager.yaml" >/dev/null || die "the configuration $component renders does not load"
else
    log "no kubectl here: $component is compared with alerts/alertmanager.yml but not built"
fi
log "alerts: rules, rule tests, alertmanager routing and its cluster copy OK"
