#!/usr/bin/env bash
# Property-based API testing: schemathesis generates requests from the shop's
# own OpenAPI document and fails on any 5xx or any answer the document does
# not describe. Runs on both backends.
set -euo pipefail
source "$ROOT/scripts/lib/setup.sh"
source "$ROOT/scripts/lib/shop.sh"
need_pip schemathesis 'schemathesis==4.32.5'
: "${TEST_DATABASE_URL:?scripts/test.sh sets it}"

dir=$(mktemp -d)
for backend in sqlite postgres; do
    if [ "$backend" = sqlite ]; then url="sqlite://$dir/shop.db"; else url=$(fresh_postgres_database); fi
    start_shop "schemathesis-$backend" "$url"
    log "schemathesis against the $backend shop at $SHOP_URL"
    # A fixed seed keeps CI reproducible; change it to explore further. One
    # worker: with two threads, hypothesis (on CPython 3.11) can fail inside
    # its own AST parsing ("AST constructor recursion depth mismatch").
    "$VENV/bin/schemathesis" run "$SHOP_URL/api/v1/openapi.json" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --max-examples 60 --workers 1 --seed 20261124 --warnings off --no-color
done
rm -rf "$dir"
