#!/usr/bin/env bash
# Builds the generated C++ package in out/cpp and runs its smoke tests:
#
#   1. configures and builds the library (shared, warnings as errors) and its
#      GoogleTest tests, and runs them under CTest;
#   2. installs the package into the build folder and builds the example
#      against the installed CMake package, the way find_package and vcpkg
#      users consume it, then runs it and checks that it redacts secrets.
#
# All build output stays in out/cpp/build (git-ignored). Needs CMake >= 3.20,
# Ninja, a C++17 compiler, yaml-cpp and GoogleTest; on Debian:
#   apt-get install cmake ninja-build g++ libyaml-cpp-dev libgtest-dev
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/out/cpp"
build="$pkg/build"
jobs="$(nproc 2>/dev/null || echo 2)"

cmake -S "$pkg" -B "$build/lib" -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug \
  -DBUILD_SHARED_LIBS=ON \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON \
  -DCOYOTE_INFRA_SECURITY_BUILD_TESTS=ON \
  -DCMAKE_INSTALL_PREFIX="$build/stage"
cmake --build "$build/lib" --parallel "$jobs"
ctest --test-dir "$build/lib" --output-on-failure --parallel "$jobs"

cmake --install "$build/lib" >/dev/null
cmake -S "$pkg/examples" -B "$build/examples" -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_PREFIX_PATH="$build/stage"
cmake --build "$build/examples" --parallel "$jobs"

secret="example-secret-$$"
output="$(env -i PATH="$PATH" \
  COYOTE_AUTH_SERVER_URL=https://auth.example.com \
  COYOTE_AUTH_CLIENT_ID=example-client \
  COYOTE_AUTH_CLIENT_SECRET="$secret" \
  MODE=mock \
  "$build/examples/print_config")"
printf '%s\n' "$output"
if [[ "$output" == *"$secret"* || "$output" != *"client_secret=[REDACTED]"* ]]; then
  echo "test-cpp: print_config did not redact the client secret" >&2
  exit 1
fi
if [[ "$output" != *"mode: mock"* ]]; then
  echo "test-cpp: print_config did not read MODE" >&2
  exit 1
fi
echo "test-cpp: ok"
