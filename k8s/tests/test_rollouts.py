"""Progressive delivery: the Argo Rollouts canary and blue-green overlays.

The Rollout runs the Deployment's pod template, the autoscaler scales the
Rollout, every step is judged by the generated SLO AnalysisTemplate, and that
template asks exactly what the generated page alerts ask: the same recording
rule, over the same window, against the same threshold."""

from __future__ import annotations

import copy
import re

import pytest

import manifests
from conftest import find, one

CANARY, BLUE_GREEN = "production-canary", "production-blue-green"
ROLLOUT_OVERLAYS = (CANARY, BLUE_GREEN)


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", duration))


def _threshold(condition: str) -> float:
    (value,) = re.findall(r"result\[0\] (?:<=|>) ([0-9.e-]+)$", condition)
    return float(value)


@pytest.mark.parametrize("overlay_name", ROLLOUT_OVERLAYS)
def test_the_rollout_runs_the_deployments_pods_and_the_autoscaler_scales_it(built, overlay_name):
    objects = built[overlay_name]
    rollout = one(objects, "Rollout", "shop")
    deployment = one(objects, "Deployment", "shop")
    assert rollout["spec"]["template"] == deployment["spec"]["template"], "one pod template, copied from the Deployment"
    assert rollout["spec"]["selector"] == deployment["spec"]["selector"]
    assert deployment["spec"]["replicas"] == 0, "the Deployment must not run pods beside the Rollout's"
    assert "replicas" not in rollout["spec"], "the autoscaler owns the count"
    target = one(objects, "HorizontalPodAutoscaler", "shop")["spec"]["scaleTargetRef"]
    assert target == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "shop"}
    assert {rollout["metadata"]["namespace"], find(objects, "AnalysisTemplate")[0]["metadata"]["namespace"]} == {"shop"}


def test_the_canary_steps_through_10_25_50_100_percent_with_an_analysis_after_each_weight(built):
    objects = built[CANARY]
    steps = one(objects, "Rollout", "shop")["spec"]["strategy"]["canary"]["steps"]
    weights = [s["setWeight"] for s in steps if "setWeight" in s]
    assert weights == [10, 25, 50, 100]
    templates = {t["metadata"]["name"] for t in find(objects, "AnalysisTemplate")}
    for before, after in zip(steps, steps[1:]):
        if "setWeight" in before and before["setWeight"] < 100:
            assert "analysis" in after, f"nothing judges the canary at {before['setWeight']} %"
            names = {t["templateName"] for t in after["analysis"]["templates"]}
            assert names and names <= templates, f"analysis step names {names}, overlay has {templates}"


def _page_threshold(alerts: list[dict], slo: str, window: str) -> float:
    """Factor x budget of the fast page alert (tier 1h_<window>) of `slo`."""
    (page,) = [a for a in alerts if a["labels"].get("tier") == f"1h_{window}" and f'sloth_slo="{slo}"' in a["expr"]]
    factor, budget = re.search(r"ratio_rate\w+{[^}]*} > \(([0-9.]+) \* ([0-9.e-]+)\)", page["expr"]).groups()
    return float(factor) * float(budget)


def test_the_analysis_asks_what_the_fast_page_alert_asks(built):
    objects = built[CANARY]
    (template,) = find(objects, "AnalysisTemplate", "shop-slo")
    rules = [r for p in find(objects, "PrometheusRule") for g in p["spec"]["groups"] for r in g["rules"]]
    alerts = [r for r in rules if "alert" in r]
    records = {r["record"] for r in rules if "record" in r}
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    assert sorted(metrics) == ["availability", "availability-canary", "page-latency", "page-latency-canary"]
    for slo in ("availability", "page-latency"):
        service, canary = metrics[slo], metrics[f"{slo}-canary"]
        record = service["provider"]["prometheus"]["query"].split("{")[0]
        assert record in records, f"{slo} queries {record}, which no PrometheusRule records"
        window = record.rsplit("rate", 1)[1]
        (sli,) = [r for r in rules if r.get("record") == record and r["labels"].get("sloth_slo") == slo]
        # The canary's query is the recorded SLI with the canary's hash added to each selector.
        narrowed = canary["provider"]["prometheus"]["query"]
        hash_matcher = ', rollouts_pod_template_hash="{{args.canary-hash}}"'
        assert narrowed.replace(hash_matcher, "").split() == sli["expr"].split(), f"{slo}-canary is not the recorded SLI"
        assert narrowed.count(hash_matcher) == sli["expr"].count('job="shop"') > 0
        for metric in (service, canary):
            assert metric["initialDelay"] == window, "the first measurement covers only time at the new weight"
            threshold = _threshold(metric["successCondition"])
            assert threshold == pytest.approx(_page_threshold(alerts, slo, window), rel=1e-9)
            assert _threshold(metric["failureCondition"]) == threshold
            assert metric["failureLimit"] == 0, "one failed measurement aborts"


@pytest.mark.parametrize("overlay_name", ROLLOUT_OVERLAYS)
def test_the_canary_hash_reaches_the_analysis_and_the_series(built, overlay_name):
    objects = built[overlay_name]
    (template,) = find(objects, "AnalysisTemplate", "shop-slo")
    assert "canary-hash" in {a["name"] for a in template["spec"]["args"]}
    strategy = one(objects, "Rollout", "shop")["spec"]["strategy"]
    steps = [s["analysis"] for s in strategy.get("canary", {}).get("steps", []) if "analysis" in s]
    steps += [strategy["blueGreen"]["postPromotionAnalysis"]] if "blueGreen" in strategy else []
    assert steps
    for analysis in steps:
        args = {a["name"]: a for a in analysis["args"]}
        assert args["canary-hash"]["valueFrom"] == {"podTemplateHashValue": "Latest"}, "judge the new revision's pods"
    monitor = one(objects, "ServiceMonitor", "shop")
    assert "rollouts-pod-template-hash" in monitor["spec"]["podTargetLabels"], "the canary's series must carry its hash"


def test_blue_green_switches_after_the_preview_is_ready_and_keeps_the_old_pods_for_the_analysis(built):
    objects = built[BLUE_GREEN]
    strategy = one(objects, "Rollout", "shop")["spec"]["strategy"]
    assert list(strategy) == ["blueGreen"], "the canary steps are replaced, not merged"
    blue_green = strategy["blueGreen"]
    for role in ("activeService", "previewService"):
        service = one(objects, "Service", blue_green[role])
        pods = one(objects, "Rollout", "shop")["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pods.items(), f"{role} {service['metadata']['name']} selects no shop pod"
    assert one(objects, "Service", blue_green["activeService"])["spec"]["ports"] == one(objects, "Service", blue_green["previewService"])["spec"]["ports"]
    (template,) = find(objects, "AnalysisTemplate", blue_green["postPromotionAnalysis"]["templates"][0]["templateName"])
    analysis = max(_seconds(m["initialDelay"]) for m in template["spec"]["metrics"])
    assert blue_green["scaleDownDelaySeconds"] > analysis, "an abort must find the old pods still running"


def test_the_plain_overlays_have_no_rollout(built):
    for name, objects in built.items():
        if name not in ROLLOUT_OVERLAYS:
            assert not find(objects, "Rollout"), f"{name} needs no Argo Rollouts controller"


def test_a_rollout_with_a_misspelt_strategy_field_is_rejected(built):
    rollout = copy.deepcopy(one(built[CANARY], "Rollout", "shop"))
    manifests.validate(rollout)
    rollout["spec"]["strategy"]["canary"]["steps"][0] = {"setWieght": 10}
    with pytest.raises(manifests.InvalidObject, match="setWieght"):
        manifests.validate(rollout)


def test_an_analysis_template_with_a_wrongly_typed_limit_is_rejected(built):
    template = copy.deepcopy(one(built[CANARY], "AnalysisTemplate", "shop-slo"))
    manifests.validate(template)
    template["spec"]["metrics"][0]["failureLimit"] = [0]
    with pytest.raises(manifests.InvalidObject, match="failureLimit"):
        manifests.validate(template)
