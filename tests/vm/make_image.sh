#!/usr/bin/env bash
# Prints the path of the VM matrix's one root image, building it when absent: a Debian 12
# (bookworm) root made with mmdebstrap (systemd, the runtime libraries of the cnmkit package and
# of its test binaries, the tools the tests drive, Debian's SELinux policy), labelled for
# SELinux here on the host with setfiles (inside the VM it takes 40 s), written to an ext4
# image with mkfs.ext4 -d (keeps the labels). Every VM boots it read-only (QEMU snapshot=on).
#
# Cache: $CNMKIT_CACHE/vm/images/bookworm-HASH/root.ext4, HASH that of this script (the package
# list is in it); manifest.txt beside it lists the package versions it got. Built in a temp
# folder and renamed, under a lock; a new build removes the images of older scripts.
# Usage: make_image.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
dir=$vm_cache/images/bookworm-$(vm_hash "$vm_here/make_image.sh" "$vm_here/lib.sh")
mkdir -p "$vm_cache/images"
exec 9>"$vm_cache/image.lock"
flock 9
if [ -f "$dir/root.ext4" ]; then
  echo "$dir/root.ext4"
  exit 0
fi

pkgs=(
  # boot and services
  systemd systemd-sysv dbus kmod udev
  # runtime libraries of cnmctl, cnm-probe and the test binaries (as in the nspawn root)
  libarchive13 libbpf1 libcap2 libcpp-httplib0.11 libfmt9 libspdlog1.10 libssl3 libyaml-cpp0.7
  libsemanage2 libselinux1 libsepol2 libelf1 zlib1g libsystemd0 libbrotli1 libseccomp2
  # what the tests drive or read
  bpftool iproute2 nftables procps util-linux curl python3 python3-jsonschema cmake
  # SELinux: Debian's reference policy and its tools
  selinux-policy-default policycoreutils semodule-utils selinux-utils checkpolicy
)
vm_log "building the root image $dir (mmdebstrap, about a minute)"
tmp=$(mktemp -d "$vm_cache/images/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
list=$(IFS=,; echo "${pkgs[*]}")
# mmdebstrap hands apt `cat >&N` for a pipe it opens at the lowest free descriptor, and dash
# (/bin/sh) takes single-digit descriptors only: with descriptors up to 10 inherited from the
# caller (ctest, flock, a CI runner's shell) N was 11 and apt failed ("Bad fd number"). So it
# runs without any inherited descriptor but the standard three.
without_inherited_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
  done
  exec "$@"
}
(without_inherited_fds mmdebstrap --variant=minbase --include="$list" \
  --customize-hook='echo cnmvm >"$1/etc/hostname"' \
  --customize-hook=': >"$1/etc/machine-id"' \
  --customize-hook='printf "SELINUX=permissive\nSELINUXTYPE=default\n" >"$1/etc/selinux/config"' \
  --customize-hook='chroot "$1" systemctl mask getty@.service serial-getty@.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer systemd-timesyncd.service' \
  --customize-hook='chroot "$1" dpkg-query -W >"$1/../manifest.txt"' \
  bookworm "$tmp/root" "deb $mirror bookworm main" "deb $security bookworm-security main") \
  >"$tmp/mmdebstrap.log" 2>&1 || { tail -30 "$tmp/mmdebstrap.log" >&2; exit 1; }
rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_Packages

# Labels for the enforcing VM; files the VM adds later inherit their folder's label.
setfiles -r "$tmp/root" "$tmp/root/etc/selinux/default/contexts/files/file_contexts" "$tmp/root"
# Room for what a test writes (a package, a rebuilt policy): QEMU's snapshot keeps it anyway.
size_mb=$(($(du -sm "$tmp/root" | cut -f1) + 1024))
mkdir -p "$tmp/out"
mv "$tmp/manifest.txt" "$tmp/out/"
mkfs.ext4 -q -L cnmvm -d "$tmp/root" "$tmp/out/root.ext4" "${size_mb}M" >&2
mv "$tmp/out" "$dir"
vm_log "root image: $(du -sh --apparent-size "$dir/root.ext4" | cut -f1)"
# Images of older scripts go (a VM still running on one keeps its open file until it stops).
for old in "$vm_cache"/images/bookworm-*; do
  [ "$old" = "$dir" ] || rm -rf "$old"
done
echo "$dir/root.ext4"
