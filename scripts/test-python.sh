#!/usr/bin/env bash
# Checks the generated Python package in out/python with ruff (format and
# lint) and mypy --strict, builds it and runs its tests with pytest. Needs
# python3 (3.9 or later) with venv and pip, and go (the client tests start
# the conformance authorization server); the pinned dependencies (PyYAML,
# httpx, PyJWT, cryptography, pytest, ruff, mypy, hatchling) come from PyPI
# into a virtual environment in out/python/.venv, reinstalled only when
# pyproject.toml changes. The wheel and sdist go to out/python/build/dist.
# Both folders are ignored by git.
set -euo pipefail

# shellcheck source=scripts/python-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/python-env.sh"

# The editable install brings the package's pinned dependencies and its
# test and lint extras; hatchling is the build backend pyproject.toml names.
install_once test test,lint "hatchling>=1.27"

# The lint and type gate, configured in pyproject.toml's [tool.ruff] and
# [tool.mypy]: the code is as ruff formats it and passes its lint rules,
# and the package type-checks with mypy --strict. Silent when it passes;
# otherwise each finding names its file, line and rule. The tools' caches
# stay in the virtual environment.
export RUFF_CACHE_DIR="$venv/.ruff_cache" MYPY_CACHE_DIR="$venv/.mypy_cache"
lint=()
for dir in src tests conformance benchmarks examples; do
  if [ -d "$pkg/$dir" ]; then lint+=("$dir"); fi
done
gate=0
(cd "$pkg" && "$venv/bin/ruff" format --check --quiet "${lint[@]}") || gate=1
(cd "$pkg" && "$venv/bin/ruff" check --quiet --output-format concise "${lint[@]}") || gate=1
(cd "$pkg" && "$venv/bin/mypy" --no-error-summary) || gate=1
if [ "$gate" -ne 0 ]; then
  echo "test-python.sh: out/python fails the lint and type gate (ruff format," \
    "ruff check, mypy --strict); fix the templates under templates/python" >&2
  exit 1
fi

# Build the wheel and sdist as a release would and check what they hold.
rm -rf "$pkg/build/dist"
if ! log="$(cd "$pkg" && "$venv/bin/hatchling" build --target wheel --target sdist --directory build/dist 2>&1)"; then
  echo "$log" >&2
  exit 1
fi
"$python" - "$pkg/build/dist" <<'PY'
import sys
import tarfile
import zipfile
from pathlib import Path

dist = Path(sys.argv[1])
(wheel,) = dist.glob("*.whl")
(sdist,) = dist.glob("*.tar.gz")
names = zipfile.ZipFile(wheel).namelist()
module = names[0].split("/")[0]
for want in ("__init__.py", "py.typed", "config.py", "client.py", "real.py", "stores.py"):
    assert f"{module}/{want}" in names, f"{wheel.name} lacks {module}/{want}"
assert not any("/tests/" in n or n.startswith("tests/") for n in names), names
members = tarfile.open(sdist).getnames()
for want in ("pyproject.toml", "README.md", "tests", "examples", "benchmarks"):
    assert any(m.split("/", 1)[-1].startswith(want) for m in members), want
print(f"built {wheel.name} and {sdist.name}")
PY

# The client tests run against the conformance authorization server and
# the mutual-TLS one, built once into the virtual environment (go caches
# the builds).
(cd "$root" && go build -o "$venv/bin/coyote-authserver" ./conformance/authserver/cmd/authserver)
(cd "$root" && go build -o "$venv/bin/coyote-mtlsserver" ./conformance/mtlsserver/cmd/mtlsserver)
export COYOTE_AUTHSERVER_CMD="$venv/bin/coyote-authserver"
export COYOTE_MTLSSERVER_CMD="$venv/bin/coyote-mtlsserver"

cd "$pkg"
"$python" -m pytest -p no:cacheprovider "$@"
