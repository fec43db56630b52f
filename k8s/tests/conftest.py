"""Fixtures for the manifest tests: every overlay, built once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import manifests  # noqa: E402

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


@pytest.fixture(scope="session", params=manifests.OVERLAYS)
def overlay(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def objects(overlay) -> list[dict]:
    return manifests.build(overlay)


@pytest.fixture(scope="session")
def built() -> dict[str, list[dict]]:
    return {name: manifests.build(name) for name in manifests.OVERLAYS}


def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects: list[dict], kind: str, name: str) -> dict:
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict) -> dict:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def workloads(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] in WORKLOAD_KINDS]


def containers(workload: dict, include_init: bool = True) -> list[dict]:
    spec = pod_spec(workload)
    return list(spec.get("containers", [])) + (list(spec.get("initContainers", [])) if include_init else [])


def config_map_env(objects: list[dict], name_prefix: str = "shop-config") -> dict[str, str]:
    found = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(name_prefix + "-")]
    assert len(found) == 1, f"expected one generated ConfigMap {name_prefix}-<hash>, found {len(found)}"
    return found[0]["data"]


def labels_match(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())
