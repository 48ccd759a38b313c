#!/usr/bin/env bash
# Builds the generated TypeScript package in out/ts and runs its smoke
# tests with node's test runner. Needs Node 20 and npm; the pinned
# dependencies come from the npm registry. Build output stays in
# out/ts/node_modules and out/ts/dist, which git ignores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/out/ts"

npm install --no-audit --no-fund --no-package-lock
npm test
