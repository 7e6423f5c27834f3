#!/usr/bin/env bash
# The main job in one command on a fresh Debian 12 machine: install what is missing, build
# cnmctl, and run the preflight on this host. Extra arguments go to `cnmctl preflight`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh >&2
bash scripts/build.sh release cnmctl >&2
exec build/cli/cnmctl preflight "$@"
