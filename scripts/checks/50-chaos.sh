#!/usr/bin/env bash
# Checks of the chaos crate that are not cargo tests: the catalogue validates
# with the real binary, every experiment dry-runs, and `chaos proxy` answers
# Toxiproxy's HTTP API to plain curl calls, the way toxiproxy-cli and the
# Toxiproxy client libraries make them. (`cargo test -p chaos` runs the
# experiments against a real shop, the toxics over TCP and the Kubernetes
# actions against a fake API server.)
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$ROOT/scripts/lib/setup.sh"

need_apt curl curl
need_apt python3 python3

cd "$ROOT"
cargo build --quiet -p chaos --bin chaos
CHAOS="${CARGO_TARGET_DIR:-$ROOT/target}/debug/chaos"

log "chaos validate chaos/experiments/*.yaml"
"$CHAOS" validate chaos/experiments/*.yaml

tmp=$(mktemp -d)
proxy_pid=""
cleanup() {
    if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

log "chaos run --dry-run on every experiment"
for experiment in chaos/experiments/*.yaml; do
    name=$(basename "$experiment" .yaml)
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

log "chaos proxy: Toxiproxy's API over curl"
api_port=$(free_port)
api="http://127.0.0.1:$api_port"
"$CHAOS" proxy --api "127.0.0.1:$api_port" >"$tmp/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 100); do
    curl -fsS "$api/version" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$api/version" >/dev/null || die "chaos proxy did not start: $(cat "$tmp/proxy.log")"

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
wait "$proxy_pid" || die "chaos proxy did not exit cleanly on SIGTERM"
proxy_pid=""
log "chaos: catalogue valid, dry runs and the proxy API OK"
