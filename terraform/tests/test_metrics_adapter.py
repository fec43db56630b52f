"""terraform/modules/monitoring installs prometheus-adapter with the rule of
k8s/components/prometheus-adapter, pointed at kube-prometheus-stack's
Prometheus."""

from __future__ import annotations

import re

import yaml

from hcl import ROOT, modules, unquote

MODULE = "modules/monitoring"


def _release(name: str) -> dict:
    found = [body for rtype, rname, body in modules()[MODULE].resources if rtype == "helm_release" and rname == name]
    assert len(found) == 1, f"one helm_release {name}"
    return found[0]


def _text() -> str:
    return (ROOT / "terraform" / MODULE / "adapter.tf").read_text()


def test_the_adapter_chart_is_pinned_from_prometheus_community():
    release = _release("prometheus_adapter")
    assert unquote(release["chart"]) == "prometheus-adapter"
    assert unquote(release["repository"]) == "https://prometheus-community.github.io/helm-charts"
    default = modules()[MODULE].variables["adapter_chart_version"]["default"]
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", default)


def test_the_adapter_reads_the_rules_of_the_kustomize_component():
    match = re.search(r'file\("\$\{path.module\}/([^"]+)"\)', _text())
    assert match, "adapter.tf reads its rules from a file"
    path = (ROOT / "terraform" / MODULE / match.group(1)).resolve()
    assert path == ROOT / "k8s/components/prometheus-adapter/config.yaml"
    assert yaml.safe_load(path.read_text())["rules"], "the file has rules"
    assert "custom  = local.adapter_config.rules" in _text()
    assert "default = false" in _text()


def test_the_adapter_queries_the_stacks_prometheus_service():
    stack = _release("kube_prometheus_stack")
    assert unquote(stack["name"]) == "kube-prometheus-stack"
    assert '"http://${helm_release.kube_prometheus_stack.name}-prometheus.${var.namespace}.svc"' in _text()
    assert "port = 9090" in _text()
