#!/usr/bin/env bash
# Static against dynamic, measured in one run on this machine (issue: static must not be
# slower). Builds a dynamic tree of cnmctl (build-dynamic/, CNM_STATIC=OFF) next to the static
# release tree, then times `cnmctl preflight --json` and `cnmctl --version` of both,
# interleaved run by run, and prints the stripped size of every shipped binary.
# Usage: bench/packaging/static_vs_dynamic.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
runs=${2:-40}
dyn=build-dynamic
cmake -S . -B "$dyn" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNM_STATIC=OFF \
  -DCNM_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$dyn" --target cnmctl >/dev/null
cmake --build "$build" --target cnmctl bench_interleaved >/dev/null
echo "== cnmctl preflight --json (live host), $runs runs each, interleaved"
"$build/bench/packaging/bench_interleaved" "$runs" "$build/cli/cnmctl" "$dyn/cli/cnmctl" -- preflight --json
echo "== cnmctl --version (process start), $runs runs each, interleaved"
"$build/bench/packaging/bench_interleaved" "$runs" "$build/cli/cnmctl" "$dyn/cli/cnmctl" -- --version
echo "== stripped sizes (bytes)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for b in "$build/cli/cnmctl" "$build/cli/cnmctl-installer" "$build/cli/cnmctl-selinux" \
         "$build/probe/cnm-probe" "$dyn/cli/cnmctl"; do
  strip --strip-unneeded -o "$tmp/x" "$b"
  printf '%-45s %10d  %s\n' "$b" "$(stat -c %s "$tmp/x")" \
    "$(file -b "$b" | grep -oE 'static-pie linked|dynamically linked')"
done
