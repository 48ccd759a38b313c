#!/usr/bin/env bash
# Builds the generated TypeScript package in out/ts and runs its tests with
# node's test runner. Needs Node 20 and npm, and go: the client tests start
# the conformance authorization server and the mutual-TLS one, built once
# into out/ts/node_modules (go caches the builds). The pinned dependencies come from the npm
# registry. Build output stays in out/ts/node_modules and out/ts/dist,
# which git ignores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/out/ts"

npm install --no-audit --no-fund --no-package-lock

bin="$root/out/ts/node_modules/.bin/coyote-authserver"
(cd "$root" && go build -o "$bin" ./conformance/authserver/cmd/authserver)
export COYOTE_AUTHSERVER_CMD="$bin"
mtls="$root/out/ts/node_modules/.bin/coyote-mtlsserver"
(cd "$root" && go build -o "$mtls" ./conformance/mtlsserver/cmd/mtlsserver)
export COYOTE_MTLSSERVER_CMD="$mtls"

npm test
