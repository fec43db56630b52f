"""k8s/components/loadgen-capacity and loadgen-split, built on top of the base
and of overlays as an environment would include them: valid objects, the
capacity pod a copy of the serving pods that no shop Service selects, and an
Indexed Job whose shards the merge Job reads."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from conftest import labels_match
from netpol import Pod, can_connect
from manifests import K8S, validate

COMPONENTS = ("loadgen-capacity", "loadgen-split")
# Overlays that keep the shop a Deployment (the canary ones make it a Rollout).
BASES = ("base", "overlays/local", "overlays/production")
NS = "shop"


def _build(tmp_path, base: str) -> list[dict]:
    rel = lambda p: os.path.relpath(K8S / p, tmp_path)  # noqa: E731
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [rel(base)],
                "components": [rel(f"components/{c}") for c in COMPONENTS],
            }
        )
    )
    result = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.fixture(params=BASES)
def objects(request, tmp_path) -> list[dict]:
    return _build(tmp_path, request.param)


def _one(objects, kind, name) -> dict:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


def test_every_object_is_valid_and_in_the_shops_namespace(objects):
    for obj in objects:
        validate(obj)
    for kind, name in [("Deployment", "shop-capacity"), ("Service", "shop-capacity"), ("Job", "loadgen-capacity"),
                       ("Job", "loadgen-split"), ("Job", "loadgen-merge"), ("PersistentVolumeClaim", "loadgen-reports")]:
        assert _one(objects, kind, name)["metadata"].get("namespace") == "shop", f"{kind}/{name}"


def test_the_capacity_pod_is_a_serving_pod_that_only_its_own_service_selects(objects):
    serving = _one(objects, "Deployment", "shop")
    capacity = _one(objects, "Deployment", "shop-capacity")
    assert capacity["spec"]["replicas"] == 1
    assert capacity["spec"]["template"]["spec"] == serving["spec"]["template"]["spec"]
    labels = capacity["spec"]["template"]["metadata"]["labels"]
    assert not labels_match(serving["spec"]["selector"]["matchLabels"], labels)
    selecting = [o["metadata"]["name"] for o in objects
                 if o["kind"] in ("Service", "PodDisruptionBudget")
                 and labels_match(o["spec"]["selector"].get("matchLabels", o["spec"]["selector"]), labels)]
    assert selecting == ["shop-capacity"]


def test_the_capacity_job_reaches_the_capacity_pod_and_it_its_database_only(objects):
    capacity = Pod(NS, _one(objects, "Deployment", "shop-capacity")["spec"]["template"]["metadata"]["labels"])
    loadgen = Pod(NS, _one(objects, "Job", "loadgen-capacity")["spec"]["template"]["metadata"]["labels"])
    postgres = Pod(NS, _one(objects, "StatefulSet", "postgres")["spec"]["template"]["metadata"]["labels"])
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    assert can_connect(objects, loadgen, capacity, 8080)
    # Its /metrics judges every step; the fault API beside it needs a token the Job has not.
    assert can_connect(objects, loadgen, capacity, 8081)
    assert can_connect(objects, prometheus, capacity, 8081)
    assert can_connect(objects, capacity, postgres, 5432)
    assert not can_connect(objects, loadgen, postgres, 5432)


def test_the_capacity_job_measures_the_capacity_pod(objects):
    job = _one(objects, "Job", "loadgen-capacity")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "capacity"
    host = container["args"][container["args"].index("--host") + 1]
    service = _one(objects, "Service", "shop-capacity")
    assert host == f"http://shop-capacity:{service['spec']['ports'][0]['port']}"
    assert job["spec"]["suspend"] is True
    base = _one(objects, "Job", "loadgen")["spec"]["template"]["spec"]
    (base_container,) = base["containers"]
    for key in ("image", "resources", "securityContext"):
        assert container[key] == base_container[key], key


def test_the_capacity_job_measures_under_the_capacity_pods_own_cpu_limit(objects):
    (container,) = _one(objects, "Job", "loadgen-capacity")["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    pod = _one(objects, "Deployment", "shop-capacity")["spec"]["template"]["spec"]
    (shop,) = [c for c in pod["containers"] if c["name"] == "shop"]
    assert args[args.index("--cpu-limit") + 1] == str(shop["resources"]["limits"]["cpu"])
    admin = args[args.index("--admin-url") + 1]
    ports = {p["name"]: p["port"] for p in _one(objects, "Service", "shop-capacity")["spec"]["ports"]}
    assert admin == f"http://shop-capacity:{ports['admin']}"


def test_every_shard_runs_its_share_and_the_merge_reads_them_all(objects):
    split = _one(objects, "Job", "loadgen-split")
    merge = _one(objects, "Job", "loadgen-merge")
    spec = split["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"]
    (container,) = spec["template"]["spec"]["containers"]
    args = container["args"]
    shard = args[args.index("--shard") + 1]
    assert re.fullmatch(r"\$\(SHARD\)/(\d+)", shard) and int(shard.split("/")[1]) == spec["completions"]
    (env,) = container["env"]
    assert env["name"] == "SHARD"
    assert env["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    report_dir = args[args.index("--report-dir") + 1]
    (merge_container,) = merge["spec"]["template"]["spec"]["containers"]
    merge_args = merge_container["args"]
    assert merge_args[0] == "merge"
    assert os.path.dirname(report_dir) == merge_args[1], "the merge reads the shards' parent directory"
    out = merge_args[merge_args.index("--report-dir") + 1]
    assert not out.startswith(merge_args[1] + "/"), "the merged summary is not one of the shards"
    claims = {v["persistentVolumeClaim"]["claimName"] for job in (split, merge)
              for v in job["spec"]["template"]["spec"]["volumes"]}
    assert claims == {"loadgen-reports"}
