#!/usr/bin/env bash
# Checks of the chaos crate that are not cargo tests: the catalogue validates
# with the real binary, every experiment dry-runs, `shop-chaos proxy` answers
# Toxiproxy's HTTP API to plain curl calls, the way toxiproxy-cli and the
# Toxiproxy client libraries make them, and plain Chaos Toolkit experiments
# run through both the real `chaostoolkit` CLI (its `chaos` command) and
# `shop-chaos` against a real shop: the two must agree on the outcome and on
# the probes that failed. (`cargo test -p chaos` runs the experiments
# against a real shop, the toxics over TCP and the Kubernetes actions against
# a fake API server.)
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$ROOT/scripts/lib/setup.sh"
source "$ROOT/scripts/lib/shop.sh"

need_apt curl curl
need_apt python3 python3
# The Chaos Toolkit, pinned: 1.19.0 is its newest CLI for Python 3.11 (later
# ones need 3.12), with the extra its jsonpath tolerance needs.
need_pip chaos "chaostoolkit==1.19.0" "chaostoolkit-lib[jsonpath]==1.44.0"
CTK="$VENV/bin/chaos"

cd "$ROOT"
cargo build --quiet -p chaos --bin shop-chaos
CHAOS="${CARGO_TARGET_DIR:-$ROOT/target}/debug/shop-chaos"
EXPERIMENTS=(chaos/experiments/*.yaml chaos/experiments/chaostoolkit/*.json chaos/experiments/chaostoolkit/*.yaml)
# The plain Chaos Toolkit experiments read the fault API's token from a
# secret with no default, as its documentation writes them.
export SHOP_ADMIN_TOKEN=check-token

log "shop-chaos validate: the catalogue and the plain Chaos Toolkit experiments"
"$CHAOS" validate "${EXPERIMENTS[@]}"

tmp=$(mktemp -d)
proxy_pid=""
cleanup() {
    if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
    if [ -n "${SHOP_PIDS:-}" ]; then kill $SHOP_PIDS 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

log "shop-chaos run --dry-run on every experiment"
for experiment in "${EXPERIMENTS[@]}"; do
    name=$(basename "$experiment"); name=${name%.*}
    "$CHAOS" run --dry-run --journal "$tmp/$name.json" "$experiment" >"$tmp/$name.out" \
        || die "the dry run of $experiment failed: $(cat "$tmp/$name.out")"
    python3 - "$tmp/$name.json" <<'EOF' || die "the dry-run journal of $experiment is wrong"
import json, sys
journal = json.load(open(sys.argv[1]))
assert journal["dry_run"] is True, journal
assert journal["status"] == "completed", journal["status"]
assert all(r["status"] == "skipped" for r in journal["run"] + journal["rollbacks"])
EOF
done

log "shop-chaos proxy: Toxiproxy's API over curl"
api_port=$(free_port)
api="http://127.0.0.1:$api_port"
"$CHAOS" proxy --api "127.0.0.1:$api_port" >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 100); do
    curl -fsS "$api/version" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$api/version" >/dev/null || die "shop-chaos proxy did not start: $(cat "$tmp/proxy.log")"

# expect METHOD PATH STATUS [BODY] -> prints the response body
expect() {
    local method=$1 path=$2 status=$3 body=${4:-}
    local args=(-sS -o "$tmp/body" -w '%{http_code}' -X "$method" "$api$path")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' -d "$body")
    local got
    got=$(curl "${args[@]}")
    [ "$got" = "$status" ] || die "$method $path answered $got, expected $status: $(cat "$tmp/body")"
    cat "$tmp/body"
}
check() { python3 -c "import json,sys; v=json.load(sys.stdin); assert $1, v"; }

expect POST /proxies 201 '{"name":"redis","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}' \
    | check 'v["name"] == "redis" and v["enabled"] is True and v["toxics"] == [] and not v["listen"].endswith(":0")'
expect POST /proxies 409 '{"name":"redis","upstream":"127.0.0.1:6379"}' \
    | check 'v == {"error": "proxy already exists", "status": 409}'
expect GET /proxies 200 | check '"redis" in v and v["redis"]["upstream"] == "127.0.0.1:6379"'
expect POST /proxies/redis/toxics 200 '{"type":"latency","attributes":{"latency":1000}}' \
    | check 'v == {"name": "latency_downstream", "type": "latency", "stream": "downstream", "toxicity": 1.0, "attributes": {"latency": 1000, "jitter": 0}}'
expect GET /proxies/redis/toxics 200 | check 'len(v) == 1'
expect POST /proxies/redis 200 '{"enabled":false}' | check 'v["enabled"] is False'
expect POST /reset 204 >/dev/null
expect GET /proxies/redis 200 | check 'v["enabled"] is True and v["toxics"] == []'
expect DELETE /proxies/redis/toxics/latency_downstream 404 | check 'v["error"] == "toxic not found"'
curl -fsS "$api/metrics" >"$tmp/metrics"
grep -q '^chaos_proxy_enabled{proxy="redis"} 1' "$tmp/metrics" || die "no chaos_proxy_enabled at /metrics"
expect DELETE /proxies/redis 204 >/dev/null
expect GET /proxies/redis 404 | check 'v == {"error": "proxy not found", "status": 404}'

kill "$proxy_pid"
wait "$proxy_pid" || die "shop-chaos proxy did not exit cleanly on SIGTERM"
proxy_pid=""

# Every experiment that uses only the Chaos Toolkit's providers (http,
# process) and none of this runner's own sections runs under both CLIs.
log "the Chaos Toolkit and shop-chaos on the same experiments, against a real shop"
"$VENV/bin/python" - "${EXPERIMENTS[@]}" >"$tmp/standard" <<'EOF'
import json, sys, yaml
OWN = {"safeguards", "blast-radius", "expected-alerts", "runbook"}
for path in sys.argv[1:]:
    text = open(path).read()
    experiment = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    activities = list((experiment.get("steady-state-hypothesis") or {}).get("probes", []))
    activities += experiment.get("method", []) + experiment.get("rollbacks", [])
    types = {a["provider"]["type"] for a in activities if "provider" in a}
    if types <= {"http", "process"} and not OWN & experiment.keys():
        print(path)
    else:
        print(f"  not standard: {path}", file=sys.stderr)
EOF
start_shop chaostoolkit "sqlite://$tmp/shop.db"
trap cleanup EXIT
export SHOP_URL SHOP_ADMIN_URL
clear_faults() {
    curl -fsS -X DELETE -H "Authorization: Bearer $SHOP_ADMIN_TOKEN" "$SHOP_ADMIN_URL/admin/faults" >/dev/null
}
compared=0
while read -r experiment; do
    name=$(basename "$experiment"); name=${name%.*}
    clear_faults
    set +e
    "$CHAOS" run --journal "$tmp/$name.ours.json" "$experiment" >"$tmp/$name.ours.out" 2>&1
    ours=$?
    clear_faults
    (cd "$tmp" && "$CTK" --no-log-file run --journal-path "$tmp/$name.ctk.json" "$ROOT/$experiment" \
        >"$tmp/$name.ctk.out" 2>&1)
    theirs=$?
    set -e
    python3 - "$tmp/$name.ours.json" "$tmp/$name.ctk.json" "$ours" "$theirs" "$name" <<'EOF' \
        || die "$experiment: shop-chaos and the Chaos Toolkit disagree: $(cat "$tmp/$name.ours.out" "$tmp/$name.ctk.out")"
import json, sys
ours, theirs = (json.load(open(p)) for p in sys.argv[1:3])
def failed(journal):
    return sorted(
        f"{phase}:{probe['activity']['name']}"
        for phase in ("before", "after")
        for probe in ((journal["steady_states"].get(phase) or {}).get("probes") or [])
        if probe.get("tolerance_met") is False
    )
seen = {
    "exit code": (int(sys.argv[3]), int(sys.argv[4])),
    "status": (ours["status"], theirs["status"]),
    "deviated": (ours["deviated"], theirs["deviated"]),
    "failed probes": (failed(ours), failed(theirs)),
    "rollbacks run": (len(ours["rollbacks"]), len(theirs["rollbacks"])),
}
for what, (a, b) in seen.items():
    if a != b:
        sys.exit(f"{what}: shop-chaos {a!r}, chaostoolkit {b!r}")
# The shape: every key the Chaos Toolkit writes, shop-chaos writes too.
def entries(journal):
    states = journal["steady_states"]
    for phase in ("before", "after"):
        yield from ((states.get(phase) or {}).get("probes") or [])
    yield from journal["run"] + journal["rollbacks"]
missing = set(theirs) - set(ours) - {"chaoslib-version"}
for mine, their in zip(entries(ours), entries(theirs)):
    missing |= {f"{their['activity']['name']}.{k}" for k in set(their) - set(mine)}
if missing:
    sys.exit(f"the shop-chaos journal lacks {sorted(missing)}")
outcome = "deviated" if ours["deviated"] else ours["status"]
print(f"  {sys.argv[5]}: both {outcome} (exit {sys.argv[3]}), failed probes: {', '.join(failed(ours)) or 'none'}")
EOF
    faults=$(curl -fsS -H "Authorization: Bearer $SHOP_ADMIN_TOKEN" "$SHOP_ADMIN_URL/admin/faults")
    [ "$faults" = "[]" ] || die "$experiment: a fault was left behind: $faults"
    compared=$((compared + 1))
done <"$tmp/standard"
[ "$compared" -ge 4 ] || die "only $compared experiments ran under both CLIs"
log "chaos: catalogue valid, dry runs, the proxy API, and $compared experiments agree under both CLIs"
