#!/usr/bin/env bash
# Benchmarks the generated Python package in out/python: get_valid_token on
# a cached token beside Authlib's OAuth2Client (benchmarks/bench_token.py).
# Uses the virtual environment of scripts/test-python.sh in
# out/python/.venv, with the package's bench extra (the pinned Authlib)
# installed besides its test extra, and the conformance authorization
# server built into it. Arguments go to the benchmark (--repeat N). Not part
# of make test.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/out/python"
venv="$pkg/.venv"
python="$venv/bin/python"
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$python" ]; then
  python3 -m venv "$venv"
fi

# Reinstalled only when pyproject.toml changes, like the test extra.
stamp="$venv/.coyote-bench-installed"
want="$(sha256sum "$pkg/pyproject.toml" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  "$python" -m pip install --quiet --editable "$pkg[bench]"
  echo "$want" >"$stamp"
fi

(cd "$root" && go build -o "$venv/bin/coyote-authserver" ./conformance/authserver/cmd/authserver)
export COYOTE_AUTHSERVER_CMD="$venv/bin/coyote-authserver"

cd "$pkg"
"$python" benchmarks/bench_token.py "$@"
