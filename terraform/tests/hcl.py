"""Terraform configuration read with python-hcl2, in a shape tests can ask
questions of: modules (directories), their variables, outputs, providers,
resources and module calls."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import hcl2

TERRAFORM = Path(__file__).resolve().parents[1]
ROOT = TERRAFORM.parent


def unquote(value):
    """python-hcl2 keeps the quotes of string literals and block labels."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _clean(value):
    if isinstance(value, dict):
        return {unquote(k): _clean(v) for k, v in value.items() if k not in ("__is_block__", "__comments__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return unquote(value)


@dataclass
class Module:
    path: Path
    variables: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    providers: dict = field(default_factory=dict)
    required_version: str | None = None
    resources: list = field(default_factory=list)  # (type, name, body)
    data: list = field(default_factory=list)
    calls: dict = field(default_factory=dict)  # module name -> body
    locals: dict = field(default_factory=dict)
    raw_text: str = ""

    @property
    def rel(self) -> str:
        return str(self.path.relative_to(TERRAFORM))


def tf_files() -> list[Path]:
    return sorted(p for p in TERRAFORM.rglob("*.tf") if ".terraform" not in p.parts)


def parse(path: Path) -> dict:
    with path.open() as handle:
        return hcl2.load(handle)


@functools.lru_cache(maxsize=None)
def modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for path in tf_files():
        module = found.setdefault(str(path.parent.relative_to(TERRAFORM)), Module(path.parent))
        module.raw_text += path.read_text()
        doc = _clean(parse(path))
        for block in doc.get("variable", []):
            module.variables.update(block)
        for block in doc.get("output", []):
            module.outputs.update(block)
        for block in doc.get("locals", []):
            module.locals.update(block)
        for block in doc.get("terraform", []):
            if "required_version" in block:
                module.required_version = block["required_version"]
            for providers in block.get("required_providers", []):
                module.providers.update(providers)
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    module.resources.append((rtype, name, body))
        for block in doc.get("data", []):
            for dtype, named in block.items():
                for name, body in named.items():
                    module.data.append((dtype, name, body))
        for block in doc.get("module", []):
            module.calls.update(block)
    return found
