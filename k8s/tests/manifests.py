"""Build the kustomize overlays and validate what they produce.

Shared by the pytest suite in this directory and by scripts/checks/30-deploy.sh
(`python k8s/tests/manifests.py` prints what it validated).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
SCHEMAS = Path(__file__).resolve().parent / "schemas"

# The oldest and the newest Kubernetes the manifests must be valid for: kind's
# node image (terraform/modules/cluster/kind) and the newest schema shipped by
# the pinned kubernetes-validate.
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")

# Custom resources, validated against this project's schemas (see schemas/).
CUSTOM_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
    ("argoproj.io/v1alpha1", "Rollout"): "rollout-argoproj-v1alpha1.json",
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): "analysistemplate-argoproj-v1alpha1.json",
}

# kubernetes-validate reads and parses its (large) definitions file for every
# object; the files never change during a run.
kv_utils.schema_contents = functools.lru_cache(maxsize=None)(kv_utils.schema_contents)


class InvalidObject(Exception):
    pass


@functools.lru_cache(maxsize=None)
def build_text(overlay: str) -> str:
    """Plain `kubectl kustomize` of one overlay, with kustomize's default load
    restrictor, as `kubectl apply -k`, Argo CD and Flux build it."""
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize k8s/overlays/{overlay} failed:\n{result.stderr}")
    return result.stdout


def build(overlay: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(build_text(overlay)) if doc is not None]


def object_id(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


@functools.lru_cache(maxsize=None)
def _custom_validator(filename: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / filename).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate(obj: dict) -> str:
    """Validate one object strictly; return what it was validated against."""
    key = (obj.get("apiVersion"), obj.get("kind"))
    if key in CUSTOM_SCHEMAS:
        errors = sorted(_custom_validator(CUSTOM_SCHEMAS[key]).iter_errors(obj), key=lambda e: list(e.absolute_path))
        if errors:
            raise InvalidObject("; ".join(f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors))
        return f"schemas/{CUSTOM_SCHEMAS[key]}"
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = ".".join(map(str, err.absolute_path)) or "<root>"
            raise InvalidObject(f"Kubernetes {version}: {path}: {err.message}") from err
        except kubernetes_validate.SchemaNotFoundError as err:
            raise InvalidObject(f"no schema: {err.message}") from err
    return "kubernetes " + " and ".join(KUBERNETES_VERSIONS)


def main() -> int:
    failures = 0
    total = 0
    print(f"kubernetes-validate {kubernetes_validate.__version__ if hasattr(kubernetes_validate, '__version__') else ''}".strip())
    for overlay in OVERLAYS:
        counts: dict[str, int] = {}
        objects = build(overlay)
        for obj in objects:
            try:
                against = validate(obj)
            except InvalidObject as err:
                failures += 1
                print(f"  FAIL {overlay}: {object_id(obj)}: {err}")
                continue
            counts[against] = counts.get(against, 0) + 1
        total += len(objects)
        summary = ", ".join(f"{n} against {what}" for what, n in sorted(counts.items()))
        print(f"overlay {overlay}: {len(objects)} objects; {summary}")
    print(f"{total} objects in {len(OVERLAYS)} overlays, {failures} invalid")
    return 1 if failures or not total else 0


if __name__ == "__main__":
    sys.exit(main())
