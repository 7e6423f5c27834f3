#!/usr/bin/env bash
# Prints the path of the initramfs (gzip cpio, about 2 MB) for one kernel folder of
# fetch_kernel.sh, building it when absent: busybox-static, the modules that reach the root
# image and the shares (virtio PCI and block, ext4, 9p over virtio) with their dependencies in
# load order, decompressed, initrd_init.sh as /init, and what it copies into the root
# (guest_run.sh, cnmvm-run.service). Cached in the kernel folder as initrd-HASH.gz, HASH that of
# these files, so editing them rebuilds only this (a second). Usage: make_initrd.sh KERNEL_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
kdir=${1:?usage: make_initrd.sh KERNEL_DIR}
release=$(cat "$kdir/release")
files=("$vm_here/make_initrd.sh" "$vm_here/initrd_init.sh" "$vm_here/guest_run.sh"
       "$vm_here/cnmvm-run.service" "$vm_here/lib.sh")
out=$kdir/initrd-$(vm_hash "${files[@]}").gz
exec 9>"$kdir/initrd.lock"
flock 9
if [ -f "$out" ]; then
  echo "$out"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work" "$out.tmp"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$work/bin/busybox"
file "$work/bin/busybox" | grep -q 'statically linked' ||
  { echo "make_initrd.sh: /bin/busybox is not static (install busybox-static)" >&2; exit 1; }
ln -s busybox "$work/bin/sh"
cp "$vm_here/initrd_init.sh" "$work/init"
cp "$vm_here/guest_run.sh" "$vm_here/cnmvm-run.service" "$work/"
chmod 755 "$work/init"

# crc32c: ext4 asks the crypto API for it at mount time, which would need a modprobe.
: >"$work/modules.order"
for mod in virtio_pci virtio_blk crc32c_generic ext4 9pnet_virtio 9p; do
  deps=$(modprobe -d "$kdir" -S "$release" --show-depends "$mod") ||
    { echo "make_initrd.sh: module $mod not found for $release" >&2; exit 1; }
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue  # "builtin NAME": compiled in
    name=$(basename "$path")
    name=${name%.xz}
    name=${name%.zst}
    grep -qx "$name" "$work/modules.order" && continue
    case "$path" in
      *.xz) xz -dc "$path" >"$work/lib/modules/$name" ;;
      *.zst) zstd -qdc "$path" >"$work/lib/modules/$name" ;;
      *) cp "$path" "$work/lib/modules/$name" ;;
    esac
    echo "$name" >>"$work/modules.order"
  done <<<"$deps"
done
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -6) >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
