#!/usr/bin/env bash
# Benchmarks the generated Python package in out/python: get_valid_token on
# a cached token beside Authlib's OAuth2Client (benchmarks/bench_token.py).
# Uses the virtual environment of scripts/test-python.sh in
# out/python/.venv, with the package's bench extra (the pinned Authlib)
# installed besides its test extra, and the conformance authorization
# server built into it. Arguments go to the benchmark (--repeat N). Not part
# of make test.
set -euo pipefail

# shellcheck source=scripts/python-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/python-env.sh"

# Reinstalled only when pyproject.toml changes, like the test extra.
install_once bench bench

(cd "$root" && go build -o "$venv/bin/coyote-authserver" ./conformance/authserver/cmd/authserver)
export COYOTE_AUTHSERVER_CMD="$venv/bin/coyote-authserver"

cd "$pkg"
"$python" benchmarks/bench_token.py "$@"
