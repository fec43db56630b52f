#!/usr/bin/env bash
# The HPA's sizing checked against the fleet (issue 22, part 5): two shop
# replicas, each under the Deployment's CPU limit, behind HAProxy, on one
# fresh PostgreSQL database. At the rate the committed measurement says two
# replicas carry (2 x capacity.requests_per_second of k8s/base/capacity.json)
# every objective must hold and the fleet must serve that rate; at 1.5 times
# that rate they must not. Takes about a minute; not part of scripts/test.sh.
#
# Usage: scripts/capacity-check.sh [--capacity FILE] [--step-duration 12s]
# Exit 0 when both predictions come true, 1 when one does not, 2 on error.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

capacity=k8s/base/capacity.json
step=12s
while [ $# -gt 0 ]; do
    case "$1" in
        --capacity) capacity=$2; shift 2 ;;
        --step-duration) step=$2; shift 2 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "capacity-check: unknown option $1" >&2; exit 2 ;;
    esac
done

command -v haproxy >/dev/null || { echo "capacity-check: haproxy is missing (Debian package haproxy)" >&2; exit 2; }
cargo build --quiet --release -p shop
cargo build --quiet -p loadgen
loadgen=target/debug/loadgen

per_replica=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["capacity"]["requests_per_second"])' "$capacity")
two=$(python3 -c "print(round(2 * $per_replica))")
more=$(python3 -c "print(round(3 * $per_replica))")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One step at RATE on two replicas; prints the verdict line and returns 0 when
# the objectives held and the fleet served at least 95 % of RATE.
carries() {
    local rate=$1 file="$out/$1.json"
    "$loadgen" capacity --shop-bin target/release/shop --replicas 2 \
        --start-rps "$rate" --max-rps "$rate" --step-duration "$step" --output "$file" >"$out/$rate.log" 2>&1 || true
    [ -f "$file" ] || { cat "$out/$rate.log" >&2; exit 2; }
    python3 - "$file" "$rate" <<'PY'
import json, sys
f = json.load(open(sys.argv[1])); rate = float(sys.argv[2]); s = f["steps"][0]
served_ok = s["requests_per_second"] >= 0.95 * rate
slis = ", ".join(f'{v["slo"]} {"held" if v["held"] else "broke"}' for v in s["slis"])
print(f'offered {rate:g} req/s to {f["load"]["replicas"]} replicas of {f["cpu"]["limit_cores"]:g} CPU: '
      f'loadgen sent {s["client_requests_per_second"]:g}, served {s["requests_per_second"]:g} req/s, '
      f'{s["cpu_cores"]:g} cores; {slis}; load average before {f["machine"]["load_average_before"]:g}')
if not s["held"]:
    print("  the objectives broke: " + "; ".join(s["breaches"]))
elif not served_ok:
    who = "loadgen" if s["client_requests_per_second"] < 0.95 * rate else "the fleet"
    print(f"  the objectives held but {who} fell short of the offered rate "
          f"(CPU {s['cpu_percent_of_limit']:g} % of the fleet's limit): not a verdict on the replicas")
sys.exit(0 if s["held"] and served_ok else 1)
PY
}

echo "capacity per replica: $per_replica req/s ($capacity)"
status=0
if carries "$two"; then echo "PASS: two replicas carry $two req/s"; else echo "FAIL: two replicas did not carry $two req/s"; status=1; fi
if carries "$more"; then echo "FAIL: two replicas also carried $more req/s (1.5 x): the measurement undersells them"; status=1; else echo "PASS: two replicas do not carry $more req/s (1.5 x)"; fi
exit $status
