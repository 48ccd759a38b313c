#!/usr/bin/env bash
# Builds the generated TypeScript package in out/ts, checks it with
# prettier and eslint, and runs its tests with node's test runner. Needs Node 20 and npm, and go: the client tests start
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

# The type gate: tsc builds the package and compiles the tests, examples
# and conformance driver against it, with the strict options of
# tsconfig.json.
npm run --silent pretest

# The format and lint gate, configured in package.json's pinned
# devDependencies and eslint.config.js: the code is as prettier formats it
# and passes eslint's recommended rules and typescript-eslint's
# type-checked ones (which read the build above). Silent when it passes;
# otherwise prettier names each file it would change and eslint each
# finding's file, line and rule.
lint=()
for dir in src tests conformance benchmarks examples; do
  if [ -d "$dir" ]; then lint+=("$dir"); fi
done
gate=0
node_modules/.bin/prettier --check --log-level warn "${lint[@]}" eslint.config.js || gate=1
node_modules/.bin/eslint --max-warnings 0 "${lint[@]}" || gate=1
if [ "$gate" -ne 0 ]; then
  echo "test-ts.sh: out/ts fails the format and lint gate (prettier --check," \
    "eslint); fix the templates under templates/ts" >&2
  exit 1
fi

# The tests, on the build above (--ignore-scripts skips the pretest build).
npm test --ignore-scripts
