#!/usr/bin/env bash
# Benchmarks the generated TypeScript package in out/ts: getValidToken on a
# cached token beside openid-client (benchmarks/bench-token.ts). Builds the
# package as scripts/test-ts.sh does, then installs the benchmarks' own
# pinned dependencies (benchmarks/package.json) into
# out/ts/benchmarks/node_modules, so that npm test never needs them, with
# the package linked there under its name; compiles the benchmark into
# out/ts/benchmarks/dist and runs it against the conformance authorization
# server, built into out/ts/node_modules. Arguments go to the benchmark
# (--repeat N). Not part of make test.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/out/ts"
cd "$pkg"

npm install --no-audit --no-fund --no-package-lock
npm run build

bin="$pkg/node_modules/.bin/coyote-authserver"
(cd "$root" && go build -o "$bin" ./conformance/authserver/cmd/authserver)
export COYOTE_AUTHSERVER_CMD="$bin"

cd "$pkg/benchmarks"
npm install --no-audit --no-fund --no-package-lock
# After the install, which would remove a link it does not know of.
name="$(node -p 'require("../package.json").name')"
mkdir -p "node_modules/$(dirname "$name")"
ln -sfn "$pkg" "node_modules/$name"
rm -rf dist
"$pkg/node_modules/.bin/tsc" -p tsconfig.json
node dist/bench-token.js "$@"
