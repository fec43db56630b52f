#!/usr/bin/env bash
# Create the Secrets the manifests reference (never committed: k8s/ holds only
# references), with fresh random values, for a cluster that Terraform did not
# set up (terraform/modules/app creates the same Secrets itself).
#
#   k8s/scripts/create-secrets.sh [--namespace shop] [--dry-run]
#
# --dry-run prints the manifests instead of applying them and needs no cluster.
# Existing Secrets are left alone: PostgreSQL keeps the password it was
# initialised with, so a new one would lock the shop out of its database.
set -euo pipefail

namespace=shop
dry_run=""
while [ $# -gt 0 ]; do
    case "$1" in
        --namespace) namespace=$2; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

# N random bytes as 2N hex digits: safe in a URL and in an HTTP header.
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 -v | tr -d ' \n'; }

manifest() {
    local name=$1; shift
    kubectl create secret generic "$name" --namespace "$namespace" "$@" --dry-run=client -o yaml \
        | sed '/creationTimestamp: null/d'
}

exists() {
    [ -z "$dry_run" ] && kubectl get secret "$1" --namespace "$namespace" >/dev/null 2>&1
}

emit() {
    if [ -n "$dry_run" ]; then cat; echo "---"; else kubectl apply --server-side -f -; fi
}

password=$(random_hex 24)

if exists postgres-credentials; then
    echo "secret/postgres-credentials exists in $namespace: left as it is" >&2
    if ! exists shop-secrets; then
        echo "error: shop-secrets is missing but postgres-credentials exists; create shop-secrets by hand with the existing password" >&2
        exit 1
    fi
else
    manifest postgres-credentials --from-literal=password="$password" | emit
fi

if exists shop-secrets; then
    echo "secret/shop-secrets exists in $namespace: left as it is" >&2
else
    # The session key signs and encrypts cookies: the shop wants >= 64 bytes.
    manifest shop-secrets \
        --from-literal=database-url="postgres://shop:${password}@postgres:5432/shop" \
        --from-literal=admin-token="$(random_hex 32)" \
        --from-literal=session-key="$(random_hex 64)" | emit
fi
