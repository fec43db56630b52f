#!/usr/bin/env bash
# Deployment checks (issue 8): the container image, the kustomize manifests and
# the Terraform, validated as far as a machine without a container engine, a
# Kubernetes cluster or cloud credentials allows:
#   1. `kubectl kustomize` on every overlay, and every object validated against
#      the Kubernetes OpenAPI schemas (kubernetes-validate, offline) or, for the
#      Prometheus operator's kinds, against k8s/tests/schemas;
#   2. pytest: k8s/tests (probes, limits, security contexts, wiring, network
#      policy reachability, generated rules/dashboards/HPA, the Dockerfile) and
#      terraform/tests (python-hcl2 parse, pinned providers, described and
#      validated variables, module calls, cross-checks with the manifests);
#   3. `terraform fmt -check` when a terraform binary happens to be installed;
#   4. checkov on the Terraform, the rendered manifests and the Dockerfile: any
#      failed check fails this script, and every skip carries its reason in the
#      code (`#checkov:skip=ID:reason`, `checkov.io/skipN: ID=reason`).
# Run by scripts/test.sh with ROOT exported.
set -euo pipefail
: "${ROOT:?ROOT must point at the repository (scripts/test.sh exports it)}"
source "$ROOT/scripts/lib/setup.sh"
cd "$ROOT"

PY_PINS=('pytest==9.2.0' 'kubernetes-validate==1.37.0' 'python-hcl2==8.1.4' 'PyYAML==6.0.3' 'dockerfile==3.4.0')
CHECKOV_PIN='checkov==3.3.30'

log "deploy: tools"
# kustomize v5 (components, labels) is built into kubectl from 1.27 on. Debian
# packages kubectl as kubernetes-client, but Debian 12 has only 1.20: install
# it only where the candidate is new enough, else say where to get it.
if ! command -v kubectl >/dev/null 2>&1; then
    if command -v apt-get >/dev/null; then
        [ -n "$APT_UPDATED" ] || { as_root apt-get update -qq; APT_UPDATED=1; }
        candidate=$(apt-cache policy kubernetes-client 2>/dev/null | awk '/Candidate:/ {print $2}')
        upstream=${candidate#*:}; upstream=${upstream##*really}
        if dpkg --compare-versions "$upstream" ge 1.27 2>/dev/null; then
            need_apt kubectl kubernetes-client
        fi
    fi
    command -v kubectl >/dev/null || die "kubectl >= 1.27 (its built-in kustomize v5) is needed for the deployment checks, and this machine's Debian/Ubuntu has no such package (kubernetes-client ${candidate:-not found}): install kubectl from the Kubernetes project's apt repository (Kubernetes docs: Install and Set Up kubectl on Linux), then rerun"
fi
kustomize_version=$(kubectl version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("kustomizeVersion",""))')
case "$kustomize_version" in
    v[5-9].*) ;;
    *) die "kubectl's kustomize is '$kustomize_version'; the manifests need kustomize v5 (components, labels)" ;;
esac

need_pip pytest "${PY_PINS[@]}"
# An older venv may lack a pin added since it was made: check them all.
if ! "$VENV/bin/python" - "${PY_PINS[@]}" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PYEOF
then
    log "updating the deployment checks' Python packages: ${PY_PINS[*]}"
    "$VENV/bin/pip" install -q "${PY_PINS[@]}" || die "pip could not install ${PY_PINS[*]}"
fi
# checkov pins its own HCL parser (bc-python-hcl2), whose module name clashes
# with python-hcl2's: it gets a virtualenv of its own.
CHECKOV_VENV="$ROOT/target/ci-venv-checkov"
VENV="$CHECKOV_VENV" need_pip checkov "$CHECKOV_PIN"
"$CHECKOV_VENV/bin/checkov" --version | grep -qx "${CHECKOV_PIN#checkov==}" \
    || "$CHECKOV_VENV/bin/pip" install -q "$CHECKOV_PIN" || die "pip could not install $CHECKOV_PIN"
PY="$VENV/bin/python"
log "kubectl kustomize $kustomize_version, kubernetes-validate $("$PY" -c 'from importlib.metadata import version; print(version("kubernetes-validate"))'), python-hcl2 $("$PY" -c 'from importlib.metadata import version; print(version("python-hcl2"))'), checkov $("$CHECKOV_VENV/bin/checkov" --version)"

log "deploy: kubectl kustomize + schema validation of every object in every overlay"
"$PY" k8s/tests/manifests.py

log "deploy: pytest k8s/tests terraform/tests"
set +e
"$PY" -m pytest -q -rs -p no:cacheprovider k8s/tests terraform/tests
status=$?
set -e
# 5 is pytest's "no tests collected": a check that checked nothing fails.
[ "$status" -eq 5 ] && die "pytest collected no deployment tests"
[ "$status" -eq 0 ] || die "deployment tests failed (pytest exit $status)"

if command -v terraform >/dev/null 2>&1; then
    log "deploy: terraform fmt -check ($(terraform version 2>/dev/null | head -n 1))"
    terraform fmt -check -recursive -diff terraform 2>/dev/null || die "terraform fmt would change the files above: run terraform fmt -recursive terraform"
else
    log "deploy: no terraform binary here: formatting not checked (HCL is parsed by python-hcl2 above)"
fi

log "deploy: checkov (Terraform, rendered manifests, Dockerfile)"
rendered="$ROOT/target/k8s-rendered"
rm -rf "$rendered" && mkdir -p "$rendered"
for overlay in k8s/overlays/*/; do
    name=$(basename "$overlay")
    kubectl kustomize "$overlay" > "$rendered/$name.yaml"
done
# Offline: --skip-download keeps checkov from fetching policies and guidelines.
export BC_SKIP_MAPPING=TRUE
checkov=("$CHECKOV_VENV/bin/checkov" --skip-download --compact --quiet --skip-path .terraform)
"${checkov[@]}" --framework terraform -d terraform
"${checkov[@]}" --framework kubernetes -d "$rendered"
"${checkov[@]}" --framework dockerfile -f service/Dockerfile

log "deploy: all checks passed (not run here: docker build, a cluster, terraform init/plan/apply)"
