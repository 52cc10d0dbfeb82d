#!/bin/bash
# Usage: scripts/npm-deps.sh
# Installs the npm packages of web/ (exactly web/package-lock.json, by `npm
# ci`) into web/node_modules, which git ignores: Swagger UI (swagger-ui-dist),
# which the build embeds for /api/docs/, and the OpenAPI validator
# (@apidevtools/swagger-parser) that tests/http/test_openapi.py runs.
# Idempotent and fast: when node_modules was installed from this very lock file
# (a stamp keeps its checksum) it returns at once without running npm. Package
# install scripts are never run (--ignore-scripts): none of these needs one.
# Exit status 1 when npm is missing or fails: `make build` goes on without the
# docs assets (the page then says so), the tests fail with this message.
set -euo pipefail
WEB=$(cd "$(dirname "$0")/../web" && pwd)
STAMP=$WEB/node_modules/.stockroom-lock.sha256

want=$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "npm-deps: npm is missing (scripts/deps.sh installs it); web/node_modules not installed" >&2
    exit 1
fi
echo "npm-deps: installing web/ packages (npm ci)" >&2
rm -f "$STAMP"
if ! (cd "$WEB" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    echo "npm-deps: npm ci failed; web/node_modules not installed" >&2
    exit 1
fi
echo "$want" >"$STAMP"
