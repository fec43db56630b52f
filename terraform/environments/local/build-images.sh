#!/usr/bin/env bash
# Build the images and load them into the kind cluster (run by terraform's
# local-exec, or by hand with the same environment variables).
#   REPO_ROOT=... CLUSTER_NAME=shop IMAGE_TAG=dev [WITH_CHAOS=1] ./build-images.sh
set -euo pipefail
: "${REPO_ROOT:?}" "${CLUSTER_NAME:?}" "${IMAGE_TAG:?}"
cd "$REPO_ROOT"

build() { # IMAGE TARGET
    DOCKER_BUILDKIT=1 docker build -f service/Dockerfile --target "$2" \
        --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
        --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        -t "$1:$IMAGE_TAG" .
    kind load docker-image "$1:$IMAGE_TAG" --name "$CLUSTER_NAME"
}

build shop shop
# The loadgen Job is created suspended, so its image is needed only to run it.
if [ -f loadgen/Cargo.toml ]; then build shop-loadgen loadgen; fi
if [ -n "${WITH_CHAOS:-}" ]; then build shop-chaos chaos; fi
