"""The objects refer to each other correctly: selectors, ports, names, the
autoscaler's arithmetic and who may talk to whom."""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from conftest import config_map_env, containers, find, labels_match, one, pod_spec, workloads
from netpol import Pod, can_connect

ROOT = Path(__file__).resolve().parents[2]
NS = "shop"
SUPERUSER_RESERVED_CONNECTIONS = 3  # PostgreSQL's default


def _pods_selected(objects, selector):
    return [w for w in workloads(objects) if labels_match(selector, w["spec"]["template"]["metadata"]["labels"])]


def _container_port_names(workload):
    return {p["name"]: p["containerPort"] for c in containers(workload) for p in c.get("ports", []) if "name" in p}


def _pod(objects, kind, name) -> Pod:
    return Pod(NS, one(objects, kind, name)["spec"]["template"]["metadata"]["labels"])


def test_every_service_selects_pods_that_have_its_target_ports(objects):
    for service in find(objects, "Service"):
        selected = _pods_selected(objects, service["spec"]["selector"])
        name = service["metadata"]["name"]
        assert selected, f"Service {name} selects no pods"
        for workload in selected:
            for port in service["spec"]["ports"]:
                target = port["targetPort"]
                if isinstance(target, str):
                    assert target in _container_port_names(workload), f"Service {name}: {workload['metadata']['name']} has no port {target}"


def test_the_service_monitor_scrapes_the_admin_port_and_only_it(objects):
    monitor = one(objects, "ServiceMonitor", "shop")
    services = [s for s in find(objects, "Service") if labels_match(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])]
    assert [s["metadata"]["name"] for s in services] == ["shop-admin"]
    (endpoint,) = monitor["spec"]["endpoints"]
    (port,) = [p for p in services[0]["spec"]["ports"] if p["name"] == endpoint["port"]]
    deployment = one(objects, "Deployment", "shop")
    assert port["targetPort"] == "admin" and _container_port_names(deployment)["admin"] == 8081
    assert endpoint["path"] == "/metrics"


def test_the_ingress_routes_to_the_public_port_only(objects):
    for ingress in find(objects, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = one(objects, "Service", backend["name"])
                ports = [p for p in service["spec"]["ports"] if p["name"] == backend["port"].get("name") or p["port"] == backend["port"].get("number")]
                assert len(ports) == 1, f"Ingress backend {backend} names no port of Service {backend['name']}"
                assert ports[0]["targetPort"] == "http"


def test_the_stateful_set_has_its_headless_service(objects):
    statefulset = one(objects, "StatefulSet", "postgres")
    service = one(objects, "Service", statefulset["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    assert labels_match(service["spec"]["selector"], statefulset["spec"]["template"]["metadata"]["labels"])
    assert statefulset["spec"]["volumeClaimTemplates"], "PostgreSQL has no persistent volume"


def test_the_loadgen_job_targets_the_shops_service(objects):
    job = one(objects, "Job", "loadgen")
    assert job["spec"]["suspend"] is True, "applying the manifests must not start a load test"
    args = containers(job)[0]["args"]
    host = args[args.index("--host") + 1]
    service = one(objects, "Service", "shop")
    assert host == f"http://shop:{service['spec']['ports'][0]['port']}"
    assert job["spec"]["activeDeadlineSeconds"] > 0, "a load test must stop by itself"


def test_the_autoscaler_targets_the_shop_by_cpu_with_both_behaviours(objects):
    hpa = one(objects, "HorizontalPodAutoscaler", "shop")
    assert hpa["apiVersion"] == "autoscaling/v2"
    ref = hpa["spec"]["scaleTargetRef"]
    deployment = one(objects, ref["kind"], ref["name"])
    assert "replicas" not in deployment["spec"], "a fixed replica count fights the autoscaler on every apply"
    cpu = [m for m in hpa["spec"]["metrics"] if m["type"] == "Resource" and m["resource"]["name"] == "cpu"]
    assert cpu and cpu[0]["resource"]["target"]["type"] == "Utilization"
    assert 0 < cpu[0]["resource"]["target"]["averageUtilization"] <= 100
    for container in containers(deployment):
        assert "cpu" in container["resources"]["requests"], "CPU utilisation needs a CPU request"
    behavior = hpa["spec"]["behavior"]
    assert behavior["scaleUp"]["policies"] and behavior["scaleDown"]["policies"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] > behavior["scaleUp"].get("stabilizationWindowSeconds", 0)
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


class KubernetesYamlLoader(yaml.SafeLoader):
    """Reads YAML as Kubernetes does: an unquoted `2026-11-24T01:37:46Z` is a
    string (YAML 1.2), not the datetime PyYAML's YAML 1.1 rules would make."""


KubernetesYamlLoader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def test_production_uses_the_measured_autoscaler_unchanged(built):
    base = yaml.load((ROOT / "k8s/base/hpa.yaml").read_text(), Loader=KubernetesYamlLoader)
    production = one(built["production"], "HorizontalPodAutoscaler", "shop")
    assert production["spec"] == base["spec"]
    assert production["metadata"]["annotations"] == base["metadata"].get("annotations", {})


def test_production_keeps_the_cpu_the_capacity_was_measured_with(built):
    base = yaml.safe_load((ROOT / "k8s/base/shop/deployment.yaml").read_text())
    measured = containers(base)[0]["resources"]
    production = containers(one(built["production"], "Deployment", "shop"))[0]["resources"]
    assert production["requests"]["cpu"] == measured["requests"]["cpu"]
    assert production["limits"]["cpu"] == measured["limits"]["cpu"]


def test_a_drain_never_takes_the_last_serving_pod_in_production(built):
    objects = built["production"]
    hpa = one(objects, "HorizontalPodAutoscaler", "shop")
    pdb = one(objects, "PodDisruptionBudget", "shop")
    assert labels_match(pdb["spec"]["selector"]["matchLabels"], one(objects, "Deployment", "shop")["spec"]["template"]["metadata"]["labels"])
    assert hpa["spec"]["minReplicas"] - int(pdb["spec"]["maxUnavailable"]) >= 1


def test_the_database_has_connections_for_the_largest_rollout(objects):
    hpa = one(objects, "HorizontalPodAutoscaler", "shop")
    deployment = one(objects, "Deployment", "shop")
    surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    max_pods = hpa["spec"]["maxReplicas"] + (
        math.ceil(hpa["spec"]["maxReplicas"] * int(surge.rstrip("%")) / 100) if isinstance(surge, str) else surge
    )
    pool = int(config_map_env(objects)["SHOP_DB_MAX_CONNECTIONS"])
    args = containers(one(objects, "StatefulSet", "postgres"))[0]["args"]
    max_connections = int(next(a.split("=", 1)[1] for a in args if a.startswith("max_connections=")))
    assert max_pods * pool <= max_connections - SUPERUSER_RESERVED_CONNECTIONS, (
        f"{max_pods} pods x {pool} connections exceed PostgreSQL's max_connections {max_connections}"
    )


def test_everything_is_denied_unless_allowed(objects):
    deny = one(objects, "NetworkPolicy", "default-deny")
    assert deny["spec"]["podSelector"] == {} and set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}


def test_shoppers_reach_the_public_port_and_only_monitoring_the_admin_port(objects):
    shop = _pod(objects, "Deployment", "shop")
    ingress_controller = Pod("traefik", {"app.kubernetes.io/name": "traefik"})
    prometheus = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    loadgen = _pod(objects, "Job", "loadgen")
    assert can_connect(objects, ingress_controller, shop, 8080)
    assert can_connect(objects, loadgen, shop, 8080)
    assert can_connect(objects, prometheus, shop, 8081)
    assert not can_connect(objects, ingress_controller, shop, 8081)
    assert not can_connect(objects, loadgen, shop, 8081), "the fault API must not be reachable from the load generator"


def test_only_the_shop_reaches_the_database(objects):
    shop = _pod(objects, "Deployment", "shop")
    postgres = _pod(objects, "StatefulSet", "postgres")
    loadgen = _pod(objects, "Job", "loadgen")
    stranger = Pod("default", {"app.kubernetes.io/name": "shop", "app.kubernetes.io/component": "web"})
    proxies = find(objects, "Deployment", "chaos-proxy")
    if proxies:
        proxy = _pod(objects, "Deployment", "chaos-proxy")
        assert can_connect(objects, shop, proxy, 5432)
        assert can_connect(objects, proxy, postgres, 5432)
        assert not can_connect(objects, loadgen, proxy, 5432)
    else:
        assert can_connect(objects, shop, postgres, 5432)
    assert not can_connect(objects, loadgen, postgres, 5432)
    assert not can_connect(objects, stranger, postgres, 5432), "a look-alike pod in another namespace reached the database"
    assert not can_connect(objects, postgres, shop, 8080), "the database needs no egress"


def test_pods_can_resolve_names(objects):
    dns = Pod("kube-system", {"k8s-app": "kube-dns"})
    for kind, name in (("Deployment", "shop"), ("Job", "loadgen")):
        assert can_connect(objects, _pod(objects, kind, name), dns, 53, "UDP")


def test_the_fault_proxy_sits_on_the_database_link_when_enabled(built):
    objects = built["local-chaos"]
    proxy = one(objects, "Deployment", "chaos-proxy")
    postgres_service = one(objects, "Service", "postgres")
    assert labels_match(postgres_service["spec"]["selector"], proxy["spec"]["template"]["metadata"]["labels"])
    args = containers(proxy)[0]["args"]
    upstream_host = args[args.index("--upstream") + 1].split(":")[0]
    upstream = one(objects, "Service", upstream_host)
    assert labels_match(upstream["spec"]["selector"], one(objects, "StatefulSet", "postgres")["spec"]["template"]["metadata"]["labels"])
    for name in ("local", "production"):
        assert not find(built[name], "Deployment", "chaos-proxy"), f"the fault proxy must be opt-in, but {name} has it"
