"""A small NetworkPolicy evaluator: enough of the semantics to ask "may pod A
open a TCP connection to pod B on port P?" of the manifests."""

from __future__ import annotations

from dataclasses import dataclass, field

from conftest import labels_match


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict = field(default_factory=dict, hash=False)

    @property
    def namespace_labels(self) -> dict:
        return {"kubernetes.io/metadata.name": self.namespace}


def _selects(selector: dict, labels: dict) -> bool:
    if selector.get("matchExpressions"):
        raise NotImplementedError("matchExpressions are not evaluated here")
    return labels_match(selector.get("matchLabels", {}), labels)


def _peer_matches(peer: dict, pod: Pod, policy_namespace: str) -> bool:
    if "ipBlock" in peer:
        return False
    pod_sel = peer.get("podSelector")
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is None:
        return pod.namespace == policy_namespace and _selects(pod_sel or {}, pod.labels)
    return _selects(ns_sel, pod.namespace_labels) and _selects(pod_sel or {}, pod.labels)


def _port_matches(ports: list | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


def _allowed(policies: list[dict], subject: Pod, peer: Pod, port: int, protocol: str, direction: str) -> bool:
    kind, peers_key = ("Ingress", "from") if direction == "ingress" else ("Egress", "to")
    selecting = [
        p for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and kind in p["spec"].get("policyTypes", ["Ingress"])
        and _selects(p["spec"]["podSelector"], subject.labels)
    ]
    if not selecting:
        return True  # not isolated in this direction
    for policy in selecting:
        for rule in policy["spec"].get(direction, []) or []:
            peers = rule.get(peers_key)
            if not _port_matches(rule.get("ports"), port, protocol):
                continue
            if not peers or any(_peer_matches(x, peer, policy["metadata"]["namespace"]) for x in peers):
                return True
    return False


def can_connect(objects: list[dict], src: Pod, dst: Pod, port: int, protocol: str = "TCP") -> bool:
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    return _allowed(policies, src, dst, port, protocol, "egress") and _allowed(policies, dst, src, port, protocol, "ingress")
