"""The Dockerfile builds the image the manifests expect. (No container engine
runs here, so the image itself is never built in these tests.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import dockerfile
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "service" / "Dockerfile"


KNOWN = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
}


def _commands():
    # BuildKit's own parser (the `dockerfile` package wraps it).
    return dockerfile.parse_file(str(DOCKERFILE))


def _instructions() -> list[tuple[str, tuple[str, ...]]]:
    return [(c.cmd.upper(), c.value) for c in _commands()]


def _stages() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    stages: dict[str, list] = {}
    current = None
    for word, value in _instructions():
        if word == "FROM":
            current = value[2] if len(value) == 3 and value[1].upper() == "AS" else f"stage{len(stages)}"
            stages[current] = []
        if current:
            stages[current].append((word, value))
    return stages


def _final() -> tuple[str, list[tuple[str, tuple[str, ...]]]]:
    name, instructions = list(_stages().items())[-1]
    return name, instructions


def _pairs(instructions, word) -> dict[str, str]:
    out = {}
    for w, value in instructions:
        if w == word:
            # The parser keeps the quotes of a quoted value.
            out.update((k, v[1:-1] if len(v) > 1 and v[0] == v[-1] == '"' else v) for k, v in zip(value[0::2], value[1::2]))
    return out


def _args() -> dict[str, str]:
    return dict(v[0].split("=", 1) for w, v in _instructions() if w == "ARG" and "=" in v[0])


def test_every_instruction_is_one_docker_knows():
    unknown = [w for w, _ in _instructions() if w not in KNOWN]
    assert not unknown, f"unknown Dockerfile instructions: {unknown}"


def test_the_default_target_is_the_shop():
    name, instructions = _final()
    assert name == "shop"
    (entrypoint,) = [value for word, value in instructions if word == "ENTRYPOINT"]
    assert entrypoint == ("/usr/local/bin/shop",)


def test_the_runtime_image_runs_as_a_numeric_non_root_user():
    for name in ("shop", "loadgen", "chaos"):
        users = [value[0] for word, value in _stages()[name] if word == "USER"]
        assert users, f"stage {name} sets no USER"
        uid = users[-1].split(":")[0]
        assert uid.isdigit() and int(uid) != 0, f"stage {name}: USER {users[-1]} must be a numeric non-root uid"


def test_the_image_matches_the_pods_user_and_ports():
    deployment = yaml.safe_load((ROOT / "k8s/base/shop/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    _, instructions = _final()
    (user,) = [value[0] for word, value in instructions if word == "USER"]
    assert int(user.split(":")[0]) == pod["securityContext"]["runAsUser"]
    exposed = {int(p) for word, value in instructions if word == "EXPOSE" for p in value}
    assert exposed == {p["containerPort"] for p in pod["containers"][0]["ports"]}
    env = _pairs(instructions, "ENV")
    assert env["SHOP_LISTEN"] == "0.0.0.0:8080" and env["SHOP_ADMIN_LISTEN"] == "0.0.0.0:8081"


def test_there_is_no_healthcheck_kubernetes_probes_instead():
    assert not [w for w, _ in _instructions() if w == "HEALTHCHECK"]


def test_the_image_carries_oci_labels():
    _, instructions = _final()
    labels = _pairs(instructions, "LABEL")
    for key in ("title", "description", "licenses", "version", "revision", "created"):
        assert labels.get(f"org.opencontainers.image.{key}"), f"no org.opencontainers.image.{key} label"
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


def test_dependencies_are_cooked_before_the_sources_are_copied():
    build = _stages()["build-shop"]
    words = [w for w, _ in build]
    cook = next(i for i, (w, v) in enumerate(build) if w == "RUN" and "cargo chef cook" in v[0])
    copy_all = next(i for i, (w, v) in enumerate(build) if w == "COPY" and v == (".", "."))
    assert cook < copy_all, "the dependency layer must not depend on the sources"
    assert "RUN" in words[copy_all:]


def test_the_runtime_base_is_minimal_and_matches_the_builders_libc():
    args = _args()
    for name in ("shop", "loadgen", "chaos"):
        base = _stages()[name][0][1][0]
        assert base.startswith("gcr.io/distroless/cc-debian12:nonroot"), f"stage {name} runs on {base}"
    assert args["DEBIAN_RELEASE"] == "bookworm", "distroless cc-debian12 carries bookworm's glibc"


def test_the_build_context_leaves_out_local_state():
    ignored = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    for pattern in (".git", "**/target", "**/*.db", "k8s", "terraform"):
        assert pattern in ignored, f".dockerignore does not exclude {pattern}"
    assert not any(p in ignored for p in ("Cargo.lock", "service", "**/Cargo.toml")), ".dockerignore excludes what the build needs"


def test_the_rust_toolchain_is_new_enough_for_the_workspace():
    args = _args()
    cargo = (ROOT / "Cargo.toml").read_text()
    wanted = re.search(r'rust-version\s*=\s*"([0-9.]+)"', cargo).group(1)
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(args["RUST_VERSION"]) >= as_tuple(wanted)[:2]


def test_the_secrets_script_makes_the_secrets_the_pods_reference():
    result = subprocess.run([str(ROOT / "k8s/scripts/create-secrets.sh"), "--dry-run"], capture_output=True, text=True, check=True)
    secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(result.stdout) if d}
    import base64

    import manifests

    for secret in secrets.values():
        manifests.validate(secret)
        assert secret["metadata"]["namespace"] == "shop"
    data = {name: {k: base64.b64decode(v).decode() for k, v in s["data"].items()} for name, s in secrets.items()}
    assert set(data["shop-secrets"]) == {"database-url", "admin-token", "session-key"}
    assert len(data["shop-secrets"]["session-key"].encode()) >= 64, "the shop wants a session key of at least 64 bytes"
    password = data["postgres-credentials"]["password"]
    assert data["shop-secrets"]["database-url"] == f"postgres://shop:{password}@postgres:5432/shop"
    again = subprocess.run([str(ROOT / "k8s/scripts/create-secrets.sh"), "--dry-run"], capture_output=True, text=True, check=True)
    assert again.stdout != result.stdout, "secrets must be random, not fixed"


def test_checkov_skips_in_the_dockerfile_carry_a_reason():
    skips = [l for l in DOCKERFILE.read_text().splitlines() if "checkov:skip=" in l]
    for line in skips:
        assert re.search(r"checkov:skip=CKV2?_DOCKER_[0-9]+:.{20,}", line), line


def test_image_versions_follow_the_workspace_version():
    version = re.search(r'(?m)^version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text()).group(1)
    for _, instructions in _stages().items():
        for word, value in instructions:
            if word == "ARG" and value[0].startswith("VERSION="):
                assert value[0] == f"VERSION={version}", f"Dockerfile {value[0]}, workspace {version}"
    for kustomization in ("k8s/base", "k8s/components/chaos-proxy"):
        for image in yaml.safe_load((ROOT / kustomization / "kustomization.yaml").read_text())["images"]:
            assert image["newTag"] == version, f"{kustomization} tags {image['name']} {image['newTag']}, workspace is {version}"
