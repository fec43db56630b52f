"""k8s/components/postgres-backup, built on the base and the overlays as an
environment would include it: valid objects in the shop's namespace, a
CronJob and a suspended restore Job that run the very scripts the local drill
tests (service/tests/api/database_restore.rs), on a claim of their own, with
network access to PostgreSQL and nothing else."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from netpol import Pod, can_connect
from manifests import K8S, validate

COMPONENT = K8S / "components/postgres-backup"
BASES = ("base", "overlays/local", "overlays/production")
NS = "shop"


def _build(tmp_path, base: str) -> list[dict]:
    rel = lambda p: os.path.relpath(p, tmp_path)  # noqa: E731
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [rel(K8S / base)],
                "components": [rel(COMPONENT)],
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
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name)]
    assert len(found) == 1, f"{kind}/{name}: {len(found)}"
    return found[0]


def _pod_spec(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def _pod_labels(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return obj["spec"]["template"]["metadata"]["labels"]


def test_every_object_is_valid_and_in_the_shops_namespace(objects):
    for obj in objects:
        validate(obj)
    for kind, name in [("CronJob", "postgres-backup"), ("Job", "postgres-restore"),
                       ("PersistentVolumeClaim", "postgres-backups"), ("ConfigMap", "postgres-backup-scripts"),
                       ("NetworkPolicy", "postgres-backup-egress"), ("NetworkPolicy", "postgres-ingress-from-backup")]:
        assert _one(objects, kind, name)["metadata"].get("namespace") == NS, f"{kind}/{name}"


def test_the_jobs_run_the_scripts_the_drill_tests(objects):
    scripts = _one(objects, "ConfigMap", "postgres-backup-scripts")
    for name in ("backup.sh", "restore.sh"):
        assert scripts["data"][name] == (COMPONENT / name).read_text(), name
    for kind, name, script in [("CronJob", "postgres-backup", "backup.sh"), ("Job", "postgres-restore", "restore.sh")]:
        spec = _pod_spec(_one(objects, kind, name))
        (container,) = spec["containers"]
        assert container["command"] == ["sh", f"/scripts/{script}"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["scripts"]["configMap"]["name"] == scripts["metadata"]["name"]
        assert volumes["backups"]["persistentVolumeClaim"]["claimName"] == "postgres-backups"
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        env = {e["name"]: e for e in container["env"]}
        assert mounts["backups"] == env["BACKUP_DIR"]["value"]
        assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "postgres-credentials", "key": "password"}
        postgres = _one(objects, "StatefulSet", "postgres")
        (server,) = [c for c in postgres["spec"]["template"]["spec"]["containers"] if c["name"] == "postgres"]
        assert container["image"] == server["image"], "pg_dump must be the server's version"
        server_env = {e["name"]: e.get("value") for e in server["env"]}
        assert env["PGUSER"]["value"] == server_env["POSTGRES_USER"]
        assert env["PGDATABASE"]["value"] == server_env["POSTGRES_DB"]


def test_the_restore_waits_to_be_asked_and_the_backup_never_races_itself(objects):
    assert _one(objects, "Job", "postgres-restore")["spec"]["suspend"] is True
    cron = _one(objects, "CronJob", "postgres-backup")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert _pod_spec(cron)["restartPolicy"] == "Never"


def test_backup_pods_reach_postgres_and_nothing_else(objects):
    postgres = Pod(NS, _one(objects, "StatefulSet", "postgres")["spec"]["template"]["metadata"]["labels"])
    shop = Pod(NS, _one(objects, "Deployment", "shop")["spec"]["template"]["metadata"]["labels"])
    for kind, name in [("CronJob", "postgres-backup"), ("Job", "postgres-restore")]:
        pod = Pod(NS, _pod_labels(_one(objects, kind, name)))
        assert can_connect(objects, pod, postgres, 5432), name
        assert not can_connect(objects, pod, shop, 8080), name
        assert not can_connect(objects, shop, pod, 5432), name
    assert can_connect(objects, shop, postgres, 5432), "the shop still reaches its database"
