"""Turn a CustomResourceDefinition's openAPIV3Schema into a strict JSON Schema.

    python3 k8s/tests/schemas/crd_to_jsonschema.py CRD.yaml VERSION OUT.json

The API server prunes unknown fields of a structural schema and
`kubectl apply --validate=strict` rejects them; jsonschema knows neither, so
every object with `properties` gets `additionalProperties: false` unless the
CRD preserves unknown fields there. Kubernetes' own extensions become JSON
Schema: `x-kubernetes-int-or-string` an integer or a string, `nullable` a
`null` type. Used for the Argo Rollouts CRDs (see README.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml


def strict(node):
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def convert(crd: dict, version: str) -> dict:
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = strict(served["schema"]["openAPIV3Schema"])
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    schema["properties"]["apiVersion"] = {"const": f"{group}/{version}"}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = sorted({"apiVersion", "kind", "metadata", *schema.get("required", [])})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{kind} {group}/{version} (from its CRD, strict)",
        **schema,
    }


def main(crd_path: str, version: str, out: str) -> int:
    crd = yaml.safe_load(Path(crd_path).read_text())
    Path(out).write_text(json.dumps(convert(crd, version), indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
