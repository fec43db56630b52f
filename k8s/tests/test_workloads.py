"""Every container is bounded, probed and locked down; the shop's shutdown
fits in its grace period."""

from __future__ import annotations

import quantities
from conftest import config_map_env, containers, find, one, pod_spec, workloads

LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")


def _each_container(objects):
    for workload in workloads(objects):
        for container in containers(workload):
            yield f"{workload['kind']}/{workload['metadata']['name']}/{container['name']}", workload, container


def test_there_are_workloads_to_check(objects):
    names = {w["metadata"]["name"] for w in workloads(objects)}
    assert {"shop", "postgres", "loadgen"} <= names


def test_every_container_has_cpu_and_memory_requests_and_limits(objects):
    problems = []
    for where, _, container in _each_container(objects):
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in resources.get(kind, {}):
                    problems.append(f"{where}: no {kind}.{resource}")
        if not problems:
            for resource in ("cpu", "memory"):
                if quantities.parse(resources["limits"][resource]) < quantities.parse(resources["requests"][resource]):
                    problems.append(f"{where}: {resource} limit below its request")
    assert not problems, "\n".join(problems)


def test_every_container_runs_non_root_read_only_without_capabilities(objects):
    problems = []
    for where, workload, container in _each_container(objects):
        pod = pod_spec(workload)
        pod_ctx = pod.get("securityContext", {})
        ctx = container.get("securityContext", {})
        if not (ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True):
            problems.append(f"{where}: runAsNonRoot is not true")
        uid = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
        if uid is None or uid == 0:
            problems.append(f"{where}: no non-zero runAsUser (the image's user cannot be checked here)")
        seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {}))
        if seccomp.get("type") != "RuntimeDefault":
            problems.append(f"{where}: seccompProfile is not RuntimeDefault")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        if ctx.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: readOnlyRootFilesystem is not true")
        if ctx.get("privileged"):
            problems.append(f"{where}: privileged")
        caps = ctx.get("capabilities", {})
        if "ALL" not in caps.get("drop", []) or caps.get("add"):
            problems.append(f"{where}: capabilities are not drop [ALL] with nothing added")
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(flag):
                problems.append(f"{where}: {flag}")
        if any("hostPath" in v for v in pod.get("volumes", [])):
            problems.append(f"{where}: hostPath volume")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: the service account token is mounted")
    assert not problems, "\n".join(problems)


def test_long_running_containers_have_liveness_and_readiness_probes(objects):
    problems = []
    for workload in workloads(objects):
        if workload["kind"] not in LONG_RUNNING:
            continue
        for container in containers(workload, include_init=False):
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    problems.append(f"{workload['metadata']['name']}/{container['name']}: no {probe}")
    assert not problems, "\n".join(problems)


def test_images_have_a_fixed_tag(objects):
    for where, _, container in _each_container(objects):
        image = container["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert tag and tag != "latest" or "@sha256:" in image, f"{where}: image {image} has no fixed tag"


def _shop(objects):
    deployment = one(objects, "Deployment", "shop")
    (container,) = [c for c in containers(deployment) if c["name"] == "shop"]
    return deployment, container


def _port(container, name):
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert name in ports, f"the shop container has no port named {name}"
    return ports[name]


def test_the_shops_probes_ask_the_admin_port(objects):
    _, container = _shop(objects)
    expect = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in expect.items():
        assert probe in container, f"the shop has no {probe}"
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{probe} asks {get['path']}, not {path}"
        port = get["port"]
        assert port in ("admin", _port(container, "admin")), f"{probe} is not on the admin port"


def test_the_shop_listens_where_its_ports_and_probes_say(objects):
    _, container = _shop(objects)
    env = config_map_env(objects)
    for setting, port_name in (("SHOP_LISTEN", "http"), ("SHOP_ADMIN_LISTEN", "admin")):
        host, _, port = env[setting].rpartition(":")
        assert host == "0.0.0.0", f"{setting}={env[setting]}: a pod must listen on every interface"
        assert int(port) == _port(container, port_name), f"{setting} port differs from the container port {port_name}"
    assert int(env["SHOP_DB_MAX_CONNECTIONS"]) > 0
    assert env["LOG_FORMAT"] == "json"


def test_the_grace_period_covers_pre_stop_drain_and_in_flight_requests(objects):
    deployment, container = _shop(objects)
    env = config_map_env(objects)
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    needed = pre_stop + int(env["SHOP_DRAIN_DELAY_SECONDS"]) + int(env["SHOP_SHUTDOWN_GRACE_SECONDS"])
    grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
    assert grace > needed, f"terminationGracePeriodSeconds {grace} <= preStop {pre_stop} + drain + grace = {needed}"
    assert int(env["SHOP_DRAIN_DELAY_SECONDS"]) > 0, "without a drain delay the listener closes while endpoints still send traffic"


def test_secure_cookies_are_on_behind_tls(objects):
    env = config_map_env(objects)
    tls = any(i["spec"].get("tls") for i in find(objects, "Ingress"))
    assert (env["SHOP_SECURE_COOKIES"] == "true") == tls


def _secret_refs(workload: dict, container: dict) -> set[tuple[str, str]]:
    """(Secret, key) pairs a container reads, through env or a mounted file."""
    refs = set()
    for var in container.get("env", []):
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            refs.add((ref["name"], ref["key"]))
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    files = {var["value"] for var in container.get("env", []) if var["name"].endswith("_FILE") and "value" in var}
    for volume in pod_spec(workload).get("volumes", []):
        if "secret" in volume and volume["name"] in mounts:
            for path in files:
                directory, _, key = path.rpartition("/")
                if directory == mounts[volume["name"]].rstrip("/"):
                    refs.add((volume["secret"]["secretName"], key))
    return refs


def test_secrets_are_referenced_never_committed(objects):
    assert not find(objects, "Secret"), "a Secret object is in the manifests: secrets must only be referenced"
    refs = set()
    for where, workload, container in _each_container(objects):
        refs |= _secret_refs(workload, container)
        for var in container.get("env", []):
            secret_like = any(word in var["name"] for word in ("PASSWORD", "TOKEN", "SESSION_KEY", "DATABASE_URL"))
            assert not (secret_like and "value" in var and not var["name"].endswith("_FILE")), f"{where}: {var['name']} has a literal value"
    assert refs >= {
        ("shop-secrets", "database-url"),
        ("shop-secrets", "admin-token"),
        ("shop-secrets", "session-key"),
        ("postgres-credentials", "password"),
    }, f"secret references found: {sorted(refs)}"


def test_the_namespace_enforces_the_restricted_pod_security_standard(objects):
    (namespace,) = find(objects, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(o["metadata"].get("namespace") == namespace["metadata"]["name"] for o in objects if o["kind"] != "Namespace")


def test_shop_rollouts_never_reduce_serving_capacity(objects):
    deployment, _ = _shop(objects)
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert rolling["maxUnavailable"] in (0, "0%"), "a rollout would take serving pods away before new ones are ready"
