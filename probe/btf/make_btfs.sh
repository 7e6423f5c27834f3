#!/usr/bin/env bash
# Writes the probe's minimized BTF files: for every kernel whose BTF the build can get, the types
# the probe's BPF objects relocate against and nothing else (`bpftool gen min_core_btf`, as
# Inspektor Gadget's btfgen and Datadog's system-probe ship theirs), named <kernel release>.btf.
# cnm-probe and cnmctl carry them (probe/embedded_files.h): a host of one of these kernels runs
# the CO-RE rungs even without /sys/kernel/btf/vmlinux (probe/README.md, "Kernels without BTF").
#
# Kernels: the build host's own (/sys/kernel/btf/vmlinux), and those of the VM matrix
# (tests/vm/kernels.conf, fetched by tests/vm/fetch_kernel.sh into its cache) when that harness
# is there. A kernel's full BTF is extracted once from its vmlinuz (the compressed payload is an
# ELF with a .BTF section) and cached as $CNMKIT_CACHE/btf/<release>-<hash of the vmlinuz>.btf.
# A kernel that cannot be had (no network on a cold cache) is skipped with a warning: the
# BTF-less tests of that kernel then fail, loudly.
#
# Usage: make_btfs.sh BPFTOOL OUT_DIR OBJECT...   (OUT_DIR is replaced as a whole)
set -euo pipefail
bpftool=$1 out=$2
shift 2
objects=("$@")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${CNMKIT_CACHE:-/var/cache/cnmkit}/btf
mkdir -p "$cache"
tmp=$(mktemp -d "${out%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# full_btf_of VMLINUZ RELEASE: the cached full BTF of a Debian-style bzImage, extracted if absent.
full_btf_of() {
  local vmlinuz=$1 release=$2
  local key
  key=$(sha256sum "$vmlinuz" | cut -c1-12)
  local btf=$cache/$release-$key.btf
  if [ ! -s "$btf" ]; then
    # The x86 boot header (Documentation/arch/x86/boot.rst): setup_sects at 0x1f1, the payload's
    # offset and length at 0x248 and 0x24c; the payload ends with its 4-byte decompressed size.
    local sects off len start magic
    sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$vmlinuz" | tr -d ' ')
    off=$(od -An -tu4 -j $((0x248)) -N4 "$vmlinuz" | tr -d ' ')
    len=$(od -An -tu4 -j $((0x24c)) -N4 "$vmlinuz" | tr -d ' ')
    start=$(((sects + 1) * 512 + off))
    magic=$(od -An -tx1 -j "$start" -N4 "$vmlinuz" | tr -d ' ')
    local unpack
    case "$magic" in
      1f8b*) unpack="gzip -dc" ;;
      fd377a58) unpack="xz --single-stream -dc" ;;
      28b52ffd) unpack="zstd -dc" ;;
      *) echo "make_btfs.sh: $vmlinuz: unknown payload compression ($magic)" >&2; return 1 ;;
    esac
    tail -c +$((start + 1)) "$vmlinuz" | head -c $((len - 4)) | $unpack >"$tmp/vmlinux"
    objcopy -O binary --only-section=.BTF "$tmp/vmlinux" "$btf.tmp"
    rm -f "$tmp/vmlinux"
    [ -s "$btf.tmp" ] || { echo "make_btfs.sh: $vmlinuz has no .BTF section" >&2; return 1; }
    mv "$btf.tmp" "$btf"
  fi
  echo "$btf"
}

# minimize FULL_BTF RELEASE
minimize() {
  "$bpftool" gen min_core_btf "$1" "$tmp/$2.btf" "${objects[@]}" >/dev/null
}

if [ -r /sys/kernel/btf/vmlinux ]; then
  minimize /sys/kernel/btf/vmlinux "$(uname -r)"
fi
conf=$repo/tests/vm/kernels.conf
fetch=$repo/tests/vm/fetch_kernel.sh
if [ -f "$conf" ] && [ -x "$fetch" ]; then
  for name in $(awk '!/^#/ && NF { print $1 }' "$conf"); do
    if ! dir=$("$fetch" "$name"); then
      echo "make_btfs.sh: warning: kernel $name not available, no BTF file for it" >&2
      continue
    fi
    release=$(cat "$dir/release")
    full=$(full_btf_of "$dir/vmlinuz" "$release") || continue
    minimize "$full" "$release"
  done
fi
chmod 755 "$tmp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
ls "$out"
