#!/usr/bin/env bash
# The whole test suite in one command (CI runs exactly this): install what is missing, build
# the release tree and run every test, then build the ASan/UBSan tree (clang) and run the unit
# tests and a short libFuzzer session on the parsers under it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test.sh: the suite loads eBPF programs and builds network namespaces: run it as root" >&2; exit 2; }
bash scripts/setup-deps.sh

echo "== release build and full suite"
bash scripts/build.sh release
ctest --test-dir build --output-on-failure --timeout 900

echo "== ASan/UBSan build: unit tests and fuzzing"
bash scripts/build.sh asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure -L 'unit|fuzz' --timeout 900
