#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [release|asan] [targets...]
#   release: build/       gcc, RelWithDebInfo, everything
#   asan:    build-asan/  clang, ASan+UBSan, plus the libFuzzer targets
# ccache keeps rebuilds on a CI machine that ran before cheap (cache outside the clone).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-release}
shift || true
export CCACHE_DIR=${CCACHE_DIR:-/var/cache/cnmkit/ccache}
# Paths relative to the checkout, so a fresh clone elsewhere (CI) hits the same cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=1
mkdir -p "$CCACHE_DIR"
common=(-G Ninja -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
case "$kind" in
  release)
    dir=build
    cmake -S . -B "$dir" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ;;
  asan)
    dir=build-asan
    cmake -S . -B "$dir" "${common[@]}" -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCNM_SANITIZE=ON -DCNM_FUZZ=ON >/dev/null ;;
  *) echo "usage: $0 [release|asan] [targets...]" >&2; exit 2 ;;
esac
if [ $# -gt 0 ]; then
  cmake --build "$dir" --target "$@"
else
  cmake --build "$dir"
fi
