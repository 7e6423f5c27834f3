#!/usr/bin/env bash
# Prints the cache folder of one kernel of the VM matrix, building it when absent: Debian's
# generic `linux-image-*-amd64` package of the suites named in kernels.conf, fetched with a
# private apt configuration (own sources, lists, cache and dpkg status under the cache: the
# machine's /etc/apt is never read for sources nor written), unpacked with dpkg-deb, its
# modules indexed with depmod (its initramfs is make_initrd.sh's, cached beside it).
#
# Cache: $CNMKIT_CACHE/vm/kernels/NAME-VERSION-HASH, VERSION the package's, HASH that of the
# scripts that build it. The suites' package lists are fetched once (cold) and reused offline
# afterwards, so a warm start touches no network; CNMKIT_VM_REFRESH=1 fetches them again (a
# newer kernel build then gets a new folder and the old one goes). Built in a temp folder and
# renamed, under a lock.
# Usage: fetch_kernel.sh NAME   (NAME: first column of kernels.conf, e.g. 6.1)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
name=${1:?usage: fetch_kernel.sh NAME (a kernel of tests/vm/kernels.conf)}
suites=$(awk -v n="$name" '$1 == n { $1 = ""; print }' "$vm_here/kernels.conf")
[ -n "$suites" ] || { echo "fetch_kernel.sh: no kernel '$name' in tests/vm/kernels.conf" >&2; exit 2; }

mkdir -p "$vm_cache/kernels" "$vm_cache/apt"
exec 9>"$vm_cache/kernel-$name.lock"
flock 9

# The private apt configuration. Security suites live in the security archive.
apt_dir=$vm_cache/apt/$name
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
mkdir -p "$apt_dir"/{state/lists/partial,cache/archives/partial,parts,prefs}
: >"$apt_dir/status.new"
[ -f "$apt_dir/status" ] || mv "$apt_dir/status.new" "$apt_dir/status"
rm -f "$apt_dir/status.new"
{
  for s in $suites; do
    case "$s" in
      *-security) echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security $s main" ;;
      *) echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" ;;
    esac
  done
} >"$apt_dir/sources.list"
cat >"$apt_dir/apt.conf" <<CONF
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/parts";
Dir::Etc::Parts "$apt_dir/parts";
Dir::Etc::Preferences "$apt_dir/prefs/none";
Dir::Etc::PreferencesParts "$apt_dir/prefs";
Dir::State "$apt_dir/state";
Dir::State::status "$apt_dir/status";
Dir::Cache "$apt_dir/cache";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
APT::Sandbox::User "root";  # downloads into our cache folder, not _apt-owned
CONF
export APT_CONFIG=$apt_dir/apt.conf
lists_key=$(sha256sum "$apt_dir/sources.list" | cut -c1-12)
if [ -n "${CNMKIT_VM_REFRESH:-}" ] || [ "$(cat "$apt_dir/lists.key" 2>/dev/null)" != "$lists_key" ]; then
  vm_log "kernel $name: fetching the package lists of: $suites"
  apt-get update -qq >&2
  echo "$lists_key" >"$apt_dir/lists.key"
fi

# The metapackage names this suite's current kernel package (linux-image-X.Y.Z-N-amd64).
pkg=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
[ -n "$pkg" ] || { echo "fetch_kernel.sh: linux-image-amd64 names no kernel in $suites" >&2; exit 1; }
ver=$(apt-cache show --no-all-versions "$pkg" | awk '$1 == "Version:" { print $2; exit }')
dir=$vm_cache/kernels/$name-$ver-$(vm_hash "$vm_here/fetch_kernel.sh" "$vm_here/lib.sh")

if [ ! -f "$dir/vmlinuz" ]; then
  vm_log "kernel $name: building $dir from $pkg $ver"
  tmp=$(mktemp -d "$vm_cache/kernels/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -qq "$pkg=$ver" >&2)
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  release=${pkg#linux-image-}
  mkdir -p "$tmp/out/lib/modules"
  # Debian 13 ships modules under usr/lib (merged /usr), older releases under lib.
  for m in "$tmp/x/lib/modules/$release" "$tmp/x/usr/lib/modules/$release"; do
    [ -d "$m" ] && mv "$m" "$tmp/out/lib/modules/$release"
  done
  [ -d "$tmp/out/lib/modules/$release" ] || { echo "fetch_kernel.sh: no modules for $release in $pkg" >&2; exit 1; }
  mv "$tmp/x/boot/vmlinuz-$release" "$tmp/out/vmlinuz"
  depmod -b "$tmp/out" "$release"
  echo "$release" >"$tmp/out/release"
  echo "$pkg $ver" >"$tmp/out/package"
  mv "$tmp/out" "$dir"
  # Older builds of this kernel go (a running VM keeps its open files until it stops).
  for old in "$vm_cache/kernels/$name"-*; do
    [ "$old" = "$dir" ] || rm -rf "$old"
  done
fi
echo "$dir"
