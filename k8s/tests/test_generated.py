"""The manifests carry exactly what the other crates generate: the alert
rules from alerts/generated, the dashboards from dashboards/generated and the
autoscaler from `loadgen hpa`. Each test compares whatever exists now and
skips, saying why, for what has not been generated yet."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from conftest import find

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "k8s" / "tools"))

import generate  # noqa: E402

HPA = ROOT / "k8s" / "base" / "hpa.yaml"
HAND_WRITTEN = ("shop.example/hpa-generated-by", "hand-written")


def test_the_generated_kustomize_files_are_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "k8s/tools/generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_prometheus_rules_are_exactly_alerts_generated(objects, overlay):
    expected = {}
    for path in generate.rule_files():
        expected[f"shop-{generate.dns_name(path.stem)}"] = yaml.safe_load(path.read_text())["groups"]
    actual = {o["metadata"]["name"]: o["spec"]["groups"] for o in find(objects, "PrometheusRule")}
    assert sorted(actual) == sorted(expected), f"overlay {overlay}: PrometheusRules {sorted(actual)} but alerts/generated gives {sorted(expected)}"
    for name, groups in expected.items():
        assert actual[name] == groups, f"overlay {overlay}: PrometheusRule {name} differs from its rule file"
    if not expected:
        pytest.skip("alerts/generated has no rule files yet (the alerts crate has not landed): no PrometheusRule to compare")


def _scrape_job(objects) -> str:
    """The `job` label Prometheus gives the shop's series through the ServiceMonitor."""
    (monitor,) = [m for m in find(objects, "ServiceMonitor") if m["metadata"]["name"] == "shop"]
    (service,) = [s for s in find(objects, "Service") if all(
        s["metadata"].get("labels", {}).get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items()
    )]
    job_label = monitor["spec"].get("jobLabel")
    return service["metadata"]["labels"][job_label] if job_label else service["metadata"]["name"]


def test_the_rules_select_the_series_the_cluster_produces(objects, overlay):
    """job="..." must be the ServiceMonitor's job and container="..." a real
    container, or the alerts would silently never fire in Kubernetes."""
    rules = [r for o in find(objects, "PrometheusRule") for g in o["spec"]["groups"] for r in g["rules"]]
    if not rules:
        pytest.skip("no PrometheusRule yet (alerts/generated is empty)")
    job = _scrape_job(objects)
    container_names = {c["name"] for w in objects if w["kind"] in ("Deployment", "StatefulSet")
                       for c in w["spec"]["template"]["spec"]["containers"]}
    for rule in rules:
        expr = str(rule["expr"])
        for wanted in re.findall(r'\bjob="([^"]+)"', expr):
            assert wanted == job, f"overlay {overlay}: {rule.get('alert') or rule.get('record')} selects job={wanted!r}, the ServiceMonitor yields job={job!r}"
        for wanted in re.findall(r'\bcontainer="([^"]+)"', expr):
            assert wanted in container_names, f"overlay {overlay}: {rule.get('alert') or rule.get('record')} selects container={wanted!r}, no such container"


def test_dashboard_config_maps_are_exactly_dashboards_generated(objects, overlay):
    expected = {p.name: p.read_text() for p in generate.dashboard_files()}
    config_maps = [o for o in find(objects, "ConfigMap") if o["metadata"].get("labels", {}).get(generate.DASHBOARD_LABEL) == "1"]
    actual = {}
    for config_map in config_maps:
        data = config_map.get("data", {})
        assert len(data) == 1, f"{config_map['metadata']['name']}: one dashboard per ConfigMap"
        assert config_map["metadata"]["annotations"][generate.FOLDER_ANNOTATION] == generate.FOLDER
        # ConfigMaps are limited to 1 MiB in all.
        assert len(json.dumps(config_map)) < 1024 * 1024, f"{config_map['metadata']['name']} is too large for a ConfigMap"
        actual.update(data)
    assert sorted(actual) == sorted(expected), f"overlay {overlay}: dashboards {sorted(actual)} but dashboards/generated has {sorted(expected)}"
    for name, text in expected.items():
        assert actual[name] == text, f"overlay {overlay}: ConfigMap for {name} differs from the file"
    if not expected:
        pytest.skip("dashboards/generated has no dashboards yet (the dashboards crate has not landed): no ConfigMap to compare")


def _recorded_command(hpa: dict) -> list[str] | None:
    for value in (hpa["metadata"].get("annotations") or {}).values():
        words = shlex.split(str(value)) if str(value).lstrip().startswith("loadgen hpa") else []
        if words:
            return words[2:]
    return None


def _committed_capacity_files() -> list[Path]:
    skip = {"target", ".git", "reports", "node_modules"}
    found = []
    for path in ROOT.rglob("capacity.json"):
        if not skip.intersection(path.relative_to(ROOT).parts):
            found.append(path)
    return found


def test_the_autoscaler_is_what_loadgen_hpa_writes_from_the_committed_capacity():
    hpa = yaml.safe_load(HPA.read_text())
    hand_written = (hpa["metadata"].get("annotations") or {}).get(HAND_WRITTEN[0]) == HAND_WRITTEN[1]
    capacity = _committed_capacity_files()
    if hand_written and not capacity:
        pytest.skip(
            "no capacity.json is committed yet (`loadgen capacity` / `loadgen hpa` have not landed): "
            "k8s/base/hpa.yaml is the hand-written stand-in and must be regenerated with `loadgen hpa`"
        )
    assert not hand_written, (
        f"{', '.join(str(p.relative_to(ROOT)) for p in capacity)} is committed but k8s/base/hpa.yaml is still the "
        "hand-written stand-in: regenerate it with `loadgen hpa --capacity ... --peak-rps ...`"
    )
    args = _recorded_command(hpa)
    assert args is not None, (
        "k8s/base/hpa.yaml records no `loadgen hpa ...` command in an annotation, so it cannot be regenerated for comparison"
    )
    original = HPA.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hpa.yaml"
        redirected = False
        for flag in ("--out", "--output", "-o"):
            if flag in args:
                args[args.index(flag) + 1] = str(out)
                redirected = True
        command = [shutil.which("cargo") or "cargo", "run", "--quiet", "--locked", "-p", "loadgen", "--", "hpa", *args]
        try:
            result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
            regenerated = out.read_bytes() if redirected else HPA.read_bytes()
        finally:
            if HPA.read_bytes() != original:
                HPA.write_bytes(original)
    assert result.returncode == 0, f"{shlex.join(command)} failed:\n{result.stderr}"
    assert yaml.safe_load(regenerated) == hpa, "k8s/base/hpa.yaml differs from what `loadgen hpa` writes from the committed capacity file"
