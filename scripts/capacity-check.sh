#!/usr/bin/env bash
# The HPA's sizing checked against the fleet (issue 22, part 5): two shop
# replicas, each under the CPU limit the measurement was made with, behind
# HAProxy, on one fresh PostgreSQL database. Offered twice the rate one
# replica held (k8s/base/capacity.json), every objective must hold and they
# must serve twice its rate; offered 1.5 times that, they must not carry it.
# Takes about a minute; not part of scripts/test.sh.
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
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "capacity-check: unknown option $1" >&2; exit 2 ;;
    esac
done

[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null || { echo "capacity-check: haproxy is missing (Debian package haproxy)" >&2; exit 2; }
[ -f "$capacity" ] || { echo "capacity-check: $capacity does not exist; make it with loadgen capacity" >&2; exit 2; }
cargo build --quiet --release -p shop -p loadgen
loadgen=target/release/loadgen

read -r per_replica offered cpu_limit < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["capacity"]["requests_per_second"], c["capacity"]["target_rps"], c["cpu"]["limit_cores"])' "$capacity")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One step offering TIMES the rate one replica held at (the same throttle
# setting scaled, so Goose's shortfall below the offered rate scales too) to
# two replicas; prints what happened and returns 0 when the two carried it:
# every objective held and they served TIMES the one replica's rate (within
# 10 %). When the objectives held but the rate fell short, the fleet's CPU
# says whether the replicas saturated (not carried) or loadgen fell short
# (no verdict: exit 2).
carries() {
    local times=$1 rate file="$out/$1.json"
    rate=$(python3 -c "print(round($times * $offered))")
    "$loadgen" capacity --shop-bin target/release/shop --replicas 2 --cpu-limit "$cpu_limit" \
        --start-rps "$rate" --max-rps "$rate" --step-duration "$step" --output "$file" >"$out/$times.log" 2>&1 || true
    [ -f "$file" ] || { cat "$out/$times.log" >&2; exit 2; }
    python3 - "$file" "$times" "$per_replica" <<'PY'
import json, sys
f = json.load(open(sys.argv[1])); times = float(sys.argv[2]); one = float(sys.argv[3])
s = f["steps"][0]; expected = times * one
slis = ", ".join(f'{v["slo"]} {"held" if v["held"] else "broke"}' for v in s["slis"])
print(f'  offered {s["target_rps"]:g} req/s to {f["load"]["replicas"]} replicas of {f["cpu"]["limit_cores"]:g} CPU: '
      f'loadgen sent {s["client_requests_per_second"]:g}, served {s["requests_per_second"]:g} req/s '
      f'({s["requests_per_second"] / one:.2f} x one replica), {s["cpu_percent_of_limit"]:g} % of their CPU; {slis}; '
      f'load average before {f["machine"]["load_average_before"]:g}')
if not s["held"]:
    print("  the objectives broke: " + "; ".join(s["breaches"]))
    sys.exit(1)
if s["requests_per_second"] >= 0.9 * expected:
    sys.exit(0)
if s["cpu_percent_of_limit"] >= 95:
    print("  the objectives held but the replicas saturated below the rate")
    sys.exit(1)
print(f"  loadgen sent less than {expected:g} req/s with the replicas' CPU to spare: no verdict")
sys.exit(2)
PY
}

verdict() {
    local status=0
    carries "$1" || status=$?
    [ "$status" -eq 2 ] && exit 2
    return "$status"
}

echo "capacity per replica: $per_replica req/s, offered $offered, under $cpu_limit CPU ($capacity)"
status=0
if verdict 2; then echo "PASS: two replicas carry twice one replica's rate"; else echo "FAIL: two replicas did not carry twice one replica's rate"; status=1; fi
if verdict 3; then echo "FAIL: two replicas also carried three times one replica's rate (1.5 x): the measurement undersells them"; status=1; else echo "PASS: two replicas do not carry three times one replica's rate (1.5 x)"; fi
exit $status
