#!/usr/bin/env bash
# Builds the generated .NET package (out/dotnet) with Mono's C# compiler and
# runs its NUnit tests. Needs Debian's mono-devel, libnewtonsoft-json-cil-dev,
# libnunit-cil-dev and nunit-console; no network. Build output goes to
# out/dotnet/build/ only (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/out/dotnet"
build="$pkg/build"

# The package's csproj names the assembly; the tests' csproj is in tests/.
csproj=("$pkg"/*.csproj)
if [[ ${#csproj[@]} -ne 1 || ! -f ${csproj[0]} ]]; then
	echo "test-dotnet: want exactly one .csproj in $pkg" >&2
	exit 1
fi
name="$(basename "${csproj[0]}" .csproj)"

# Debian's pkg-config files give the assemblies as -r:<path> flags.
dll_from_pkg_config() { # <package> <file name>
	pkg-config --libs "$1" | tr ' ' '\n' | sed -n "s|^-r:\(.*/$2\)\$|\1|p" | head -n 1
}
json="$(dll_from_pkg_config newtonsoft-json Newtonsoft.Json.dll)"
nunit="$(dll_from_pkg_config nunit nunit.framework.dll)"
for dll in "$json" "$nunit"; do
	if [[ -z $dll || ! -f $dll ]]; then
		echo "test-dotnet: Newtonsoft.Json or nunit.framework not found; install libnewtonsoft-json-cil-dev and libnunit-cil-dev" >&2
		exit 1
	fi
done

# The same file set as the csproj: src/**/*.cs, in a stable order.
mapfile -t sources < <(find "$pkg/src" -name '*.cs' -type f | LC_ALL=C sort)
mapfile -t tests < <(find "$pkg/tests" -name '*.cs' -type f | LC_ALL=C sort)

rm -rf "$build"
mkdir -p "$build"
cp "$json" "$nunit" "$build/"

# -warnaserror with -doc: every public symbol must carry a doc comment (the
# csproj sets GenerateDocumentationFile) and the sources build without warnings.
mcs -langversion:7.2 -target:library -nologo -warnaserror -debug- -optimize+ \
	-doc:"$build/$name.xml" -out:"$build/$name.dll" \
	-r:System.Net.Http.dll -r:"$json" \
	"${sources[@]}"

mcs -langversion:7.2 -target:library -nologo -warnaserror -nowarn:1591 \
	-out:"$build/$name.Tests.dll" \
	-r:"$build/$name.dll" -r:"$json" -r:"$nunit" \
	"${tests[@]}"

cd "$build"
nunit-console -nologo -noshadow -xml="$build/TestResult.xml" "$build/$name.Tests.dll"
