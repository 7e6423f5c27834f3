#!/usr/bin/env bash
# Fetches the Debian source packages cnmkit compiles from source into the cache
# (/var/cache/cnmkit/src, or $CNMKIT_CACHE/src), each unpacked with Debian's patches applied.
#
# Only cpp-httplib today: Debian 12's libcpp-httplib-dev is split into a declarations-only header
# and a shared library (no .a), so a static cnm-probe cannot link it. Its source package holds
# the upstream single header, which is the same code at the same version as the installed
# library. The version is the installed libcpp-httplib-dev's, so the two never drift.
#
# A private apt configuration (APT_CONFIG with its own sources list and state folders) reads
# the configured Debian mirror's deb-src index; the machine's /etc/apt is never changed. apt
# checks the index signature with Debian's archive keyring and the files against the index.
# Idempotent: a version already unpacked is not fetched again. Usage: fetch-sources.sh
set -euo pipefail
cache=${CNMKIT_CACHE:-/var/cache/cnmkit}/src
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# The same mirror as the debootstrapped test roots (tests/installer/nspawn/make_root.sh).
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mirror=${mirror%/}

fetch() {  # fetch PACKAGE VERSION LINKNAME
  local pkg=$1 version=$2 link=$3
  local dest="$cache/$pkg-$version"
  if [ ! -d "$dest" ]; then
    local tmp
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    mkdir -p "$tmp"/{lists/partial,archives/partial,work}
    cat >"$tmp/sources.list" <<EOF
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-updates main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror}-security bookworm-security main
EOF
    cat >"$tmp/apt.conf" <<EOF
Dir::Etc::SourceList "$tmp/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::State::Lists "$tmp/lists";
Dir::Cache "$tmp";
APT::Sandbox::User "root";
EOF
    export APT_CONFIG="$tmp/apt.conf"
    apt-get update -qq >&2
    (cd "$tmp/work" && apt-get source -qq "$pkg=$version" >&2)
    local unpacked
    unpacked=$(find "$tmp/work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
    [ -n "$unpacked" ] || { echo "fetch-sources: $pkg $version did not unpack" >&2; exit 1; }
    mv "$unpacked" "$dest"
    unset APT_CONFIG
  fi
  ln -sfn "$(basename "$dest")" "$cache/$link.tmp"
  mv -T "$cache/$link.tmp" "$cache/$link"
  echo "fetch-sources: $pkg $version in $cache/$link"
}

httplib_version=$(dpkg-query -W -f='${Version}' libcpp-httplib-dev)
fetch cpp-httplib "$httplib_version" cpp-httplib
