"""Every object is valid for the Kubernetes versions we target, and the
validator used for that really rejects broken objects."""

from __future__ import annotations

import copy

import pytest

import manifests
from conftest import one


def test_every_overlay_is_built(built):
    assert {"local", "production"} <= set(built), "the local and production overlays must exist"
    for name, objs in built.items():
        assert objs, f"overlay {name} built no objects"


def test_every_object_is_valid_against_its_schema(objects, overlay):
    failures = []
    for obj in objects:
        try:
            manifests.validate(obj)
        except manifests.InvalidObject as err:
            failures.append(f"{manifests.object_id(obj)}: {err}")
    assert not failures, f"overlay {overlay}:\n" + "\n".join(failures)


def test_object_names_are_unique_per_kind(objects):
    ids = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert len(ids) == len(set(ids))


def test_a_misspelt_field_is_rejected(built):
    deployment = copy.deepcopy(one(built["local"], "Deployment", "shop"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/readyz", "port": "admin"}}
    with pytest.raises(manifests.InvalidObject, match="readinesProbe"):
        manifests.validate(deployment)


def test_a_wrongly_typed_field_is_rejected(built):
    hpa = copy.deepcopy(one(built["local"], "HorizontalPodAutoscaler", "shop"))
    hpa["spec"]["maxReplicas"] = "ten"
    with pytest.raises(manifests.InvalidObject):
        manifests.validate(hpa)


def test_an_unknown_kind_is_rejected():
    with pytest.raises(manifests.InvalidObject, match="no schema"):
        manifests.validate({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})


def test_a_service_monitor_with_a_bad_interval_is_rejected(built):
    monitor = copy.deepcopy(one(built["local"], "ServiceMonitor", "shop"))
    manifests.validate(monitor)
    monitor["spec"]["endpoints"][0]["interval"] = "15 seconds"
    with pytest.raises(manifests.InvalidObject, match="interval"):
        manifests.validate(monitor)


def test_a_prometheus_rule_that_both_records_and_alerts_is_rejected():
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "r"},
        "spec": {"groups": [{"name": "g", "rules": [{"record": "a:b", "expr": "1"}]}]},
    }
    manifests.validate(rule)
    rule["spec"]["groups"][0]["rules"][0]["alert"] = "A"
    with pytest.raises(manifests.InvalidObject):
        manifests.validate(rule)


def test_checkov_skips_in_the_manifests_carry_a_reason(objects):
    import re

    for obj in objects:
        for key, value in (obj["metadata"].get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                # checkov splits on "=": a second one breaks its parser.
                assert re.fullmatch(r"CKV2?_K8S_[0-9]+=[^=]{20,}", value), f"{manifests.object_id(obj)}: {key}: {value!r}"
