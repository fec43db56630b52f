"""Kubernetes resource quantities as numbers (enough for CPU and memory)."""

from __future__ import annotations

import re

_SUFFIX = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}


def parse(quantity: str | int | float) -> float:
    if isinstance(quantity, (int, float)):
        return float(quantity)
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", quantity)
    if not match or match.group(2) not in _SUFFIX:
        raise ValueError(f"not a quantity: {quantity!r}")
    return float(match.group(1)) * _SUFFIX[match.group(2)]
