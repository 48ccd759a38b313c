#!/usr/bin/env bash
# Installs what the tests need that a fresh machine lacks: the Debian
# packages of the C++ and .NET toolchains and the Go modules. Packages
# already present are left alone, so a second run costs a few seconds.
# pip and npm packages are installed by each language's test script into
# its own virtual environment or node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  # C++: build, tests, and the libraries the generated package uses
  cmake ninja-build g++ libgtest-dev libyaml-cpp-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev pkg-config
  # .NET on Mono: the C# 7.2 compiler, Newtonsoft.Json and NUnit 2.6
  mono-devel libnewtonsoft-json-cil-dev nunit-console libnunit-cil-dev
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in go python3 node npm; do
  command -v "$tool" >/dev/null || { echo "deps: $tool is not installed; install it first" >&2; exit 1; }
done
go mod download
