#!/usr/bin/env bash
# wait-rollout.sh NAMESPACE ROLLOUT TIMEOUT_SECONDS
#
# Waits until Argo Rollouts has finished with the Rollout's newest revision:
# exit 0 once it is Healthy and stable (every canary step passed its SLO
# analysis and the new ReplicaSet is the stable one), exit 1 as soon as it is
# Degraded or aborted (an analysis failed: Argo Rollouts has already scaled the
# canary away and traffic is back on the stable revision), or at the timeout.
# kubectl alone, so that the runner needs no Argo Rollouts plugin.
# WAIT_ROLLOUT_INTERVAL: seconds between two looks (15).
set -euo pipefail
ns=$1 name=$2 timeout=$3
interval=${WAIT_ROLLOUT_INTERVAL:-15}
deadline=$((SECONDS + timeout))
rollout=(kubectl -n "$ns" get rollout "$name")
generation=$("${rollout[@]}" -o jsonpath='{.metadata.generation}')
while :; do
    status=$("${rollout[@]}" -o jsonpath='{.status.observedGeneration}|{.status.phase}|{.status.abort}|{.status.currentPodHash}|{.status.stableRS}|{.status.message}')
    IFS='|' read -r observed phase abort current stable message <<<"$status"
    echo "rollout $name: generation $observed/$generation, phase ${phase:-?}, current $current, stable $stable ${message:+($message)}"
    if [ "$abort" = "true" ] || [ "$phase" = "Degraded" ]; then
        echo "::error::rollout $name aborted: ${message:-no message}"
        kubectl -n "$ns" get analysisruns -o wide || true
        exit 1
    fi
    if [ "$observed" = "$generation" ] && [ "$phase" = "Healthy" ] && [ -n "$current" ] && [ "$current" = "$stable" ]; then
        echo "rollout $name: revision $current promoted"
        exit 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "::error::rollout $name not finished after ${timeout}s (phase ${phase:-?})"
        exit 1
    fi
    sleep "$interval"
done
