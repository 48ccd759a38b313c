# Sourced by scripts/test-python.sh and scripts/bench-python.sh: the
# virtual environment of the generated Python package in out/python/.venv
# (ignored by git), and install_once, which installs the package with
# extras only when pyproject.toml changed since the last install.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/out/python"
venv="$pkg/.venv"
python="$venv/bin/python"
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$python" ]; then
  python3 -m venv "$venv"
fi

# install_once NAME EXTRAS [PIP ARGUMENTS...]: an editable install of the
# package with EXTRAS (e.g. test,lint), remembered under NAME.
install_once() {
  local stamp="$venv/.coyote-$1-installed" extras="$2" want
  shift 2
  want="$(sha256sum "$pkg/pyproject.toml" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    "$python" -m pip install --quiet --editable "$pkg[$extras]" "$@"
    echo "$want" >"$stamp"
  fi
}
