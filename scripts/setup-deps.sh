#!/usr/bin/env bash
# Installs every Debian package that building, running and testing cnmkit needs.
# Idempotent: packages already present are not touched and `apt-get update` runs at most
# once per invocation, and only when something is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang llvm clang-format lld
  libclang-rt-14-dev libfuzzer-14-dev
  # libraries (the decided stack)
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libsemanage-dev libselinux1-dev libsepol-dev
  libyaml-cpp-dev libcli11-dev libarchive-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libcpp-httplib-dev libcap-dev nettle-dev libseccomp-dev
  libvalijson-dev
  # static archives the static links need (cmake/CnmDeps.cmake lists them): libarchive's,
  # libsemanage's, libselinux's. Named here, not left to the base image (a fresh Debian 12 had
  # neither libzstd.a nor liblz4.a).
  libacl1-dev libaudit-dev libcap-ng-dev libzstd-dev liblz4-dev liblzma-dev libbz2-dev
  libxml2-dev libicu-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real components the tests drive
  selinux-policy-default checkpolicy policycoreutils semodule-utils setools
  ansible-core ansible-lint
  iproute2 nftables procps kmod
  python3-jsonschema
  debootstrap systemd-container
  ruby rubocop ruby-rspec
  dpkg-dev file ccache
  # packages: the .rpm (rpmbuild), checking the .deb, running the completion script
  rpm lintian bash-completion
)

# Parts add what only they need in scripts/packages/PART.txt (one package a line, # comments).
here=$(cd "$(dirname "$0")" && pwd)
for list in "$here"/packages/*.txt; do
  [ -f "$list" ] || continue
  while read -r p _; do
    case "$p" in ''|'#'*) continue ;; esac
    PACKAGES+=("$p")
  done < "$list"
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages present"
  exec bash "$here/fetch-sources.sh"
fi

echo "setup-deps: installing ${#missing[@]} missing packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-deps: done"
exec bash "$here/fetch-sources.sh"
