"""The prometheus-adapter rule (k8s/components/prometheus-adapter) serves the
metric the HPA asks for, from the histogram the shop exports, per pod."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "k8s/components/prometheus-adapter"


def _rule() -> dict:
    rules = yaml.safe_load((COMPONENT / "config.yaml").read_text())["rules"]
    assert len(rules) == 1, "one rule: the shop's request rate"
    return rules[0]


def _pods_metric_names() -> list[str]:
    hpa = yaml.safe_load((ROOT / "k8s/base/hpa.yaml").read_text())
    return [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]


def _contract_histogram() -> str:
    source = (ROOT / "service/contract/src/metrics.rs").read_text()
    match = re.search(r'HTTP_SERVER_REQUEST_DURATION: &str = "([a-z_]+)"', source)
    assert match, "service/contract names the request histogram"
    return match.group(1)


def test_the_adapter_serves_the_metric_the_hpa_scales_on():
    assert _pods_metric_names() == [_rule()["name"]["as"]]


def test_the_rule_reads_the_contracts_request_histogram_count():
    rule = _rule()
    count = _contract_histogram() + "_count"
    assert rule["seriesQuery"].startswith(count + "{")
    assert re.fullmatch(rule["name"]["matches"], count)


def test_values_are_per_pod_in_their_namespace():
    rule = _rule()
    assert rule["resources"]["overrides"] == {
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }
    query = rule["metricsQuery"]
    for field in ("<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>"):
        assert field in query, f"metricsQuery must use {field}"
    assert re.search(r"\bby \(<<\.GroupBy>>\)", query), "one value per pod"


def test_the_component_ships_the_same_file_as_a_config_map():
    component = yaml.safe_load((COMPONENT / "kustomization.yaml").read_text())
    assert component["kind"] == "Component"
    (generator,) = component["configMapGenerator"]
    assert generator["files"] == ["config.yaml"]
