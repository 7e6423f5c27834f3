#!/usr/bin/env bash
# Makes a BTF archive (probe/btf_archive.h) for a fleet whose kernels have no BTF of their own:
# every kernel's full BTF minimized to what the probe's objects relocate against (`bpftool gen
# min_core_btf`, ~10 KB a kernel), each xz-compressed on its own (<release>.btf.xz, ~3 KB) in
# one uncompressed tar: a lookup reads a header and passes over each member before its kernel's
# and unpacks that one only (a tar.xz of raw files is unpacked up to the kernel's: up to a second
# for a few thousand kernels; the reader takes both). Install it with
# `cnmctl install --btf-archive FILE` (or the role's and cookbook's btf_archive option); the
# daemon and the preflight take the running kernel's file from it.
#
# SOURCEs: files or folders (searched below), of one architecture:
#   <release>.btf          a kernel's raw BTF (from its debug vmlinux:
#                          `objcopy -O binary --only-section=.BTF vmlinux <release>.btf`)
#   <release>.btf.tar.xz   BTFHub's archive layout (btfhub-archive/<distro>/<version>/<arch>/)
# A release met twice is taken once (the first, in sorted path order), with a warning.
#
# Usage: make_btf_archive.sh OUT.tar OBJECT_DIR SOURCE...
#   OBJECT_DIR: the probe's BPF objects (*.bpf.o): the release's ebpf/ folder, the payload's
#   /usr/lib/cnmkit/ebpf, or a build's probe/bpf. BPFTOOL: bpftool to use (default: on PATH).
set -euo pipefail
export LC_ALL=C  # one sort order everywhere: which copy of a release is "first" must not vary
[ $# -ge 3 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
out=$1 objects=$2
shift 2
bpftool=${BPFTOOL:-bpftool}
command -v "$bpftool" >/dev/null || { echo "make_btf_archive.sh: no bpftool (Debian: apt-get install bpftool)" >&2; exit 2; }
mapfile -t objs < <(find "$objects" -maxdepth 1 -name '*.bpf.o' | sort)
[ ${#objs[@]} -gt 0 ] || { echo "make_btf_archive.sh: no *.bpf.o in $objects" >&2; exit 2; }

# Beside OUT: the finished archive is renamed into place in one step (same file system).
tmp=$(mktemp -d "$(dirname "$out")/.make_btf_archive.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/out"

# minimize FULL_BTF RELEASE
minimize() {
  local full=$1 release=$2
  case "$release" in
    '' | *..* | */*) echo "make_btf_archive.sh: '$release' is not a kernel release, skipped" >&2; return 0 ;;
  esac
  if [ -e "$tmp/out/$release.btf" ]; then
    echo "make_btf_archive.sh: warning: $release met again ($full), the first kept" >&2
    return 0
  fi
  "$bpftool" gen min_core_btf "$full" "$tmp/out/$release.btf" "${objs[@]}" >/dev/null
}

add_file() {
  local f=$1 base
  base=$(basename "$f")
  case "$base" in
    *.btf.tar.xz)
      rm -rf "$tmp/x" && mkdir "$tmp/x"
      tar -xJf "$f" -C "$tmp/x" --no-same-owner --no-same-permissions
      local inner
      inner=$(find "$tmp/x" -type f -name '*.btf' | head -1)
      [ -n "$inner" ] || { echo "make_btf_archive.sh: $f holds no .btf file" >&2; exit 1; }
      minimize "$inner" "${base%.btf.tar.xz}"
      ;;
    *.btf) minimize "$f" "${base%.btf}" ;;
    *) echo "make_btf_archive.sh: $f is neither <release>.btf nor <release>.btf.tar.xz" >&2; exit 2 ;;
  esac
}

for src in "$@"; do
  if [ -d "$src" ]; then
    while IFS= read -r -d '' f; do add_file "$f"; done \
      < <(find "$src" -type f \( -name '*.btf' -o -name '*.btf.tar.xz' \) -print0 | sort -z)
  else
    add_file "$src"
  fi
done
count=$(find "$tmp/out" -name '*.btf' | wc -l)
[ "$count" -gt 0 ] || { echo "make_btf_archive.sh: no kernel BTF found in: $*" >&2; exit 1; }
# Each file packed on its own (a 1 MiB dictionary holds a minimized file whole and keeps both
# ends' memory small); reproducible: sorted names, no owner, time or umask of this machine, one
# xz thread (xz writes no name or time into a stream).
find "$tmp/out" -name '*.btf' -print0 | xargs -0 -r xz -T1 --lzma2=preset=9e,dict=1MiB
tar -C "$tmp/out" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  --mode=u=rwX,go=rX --format=gnu -cf "$tmp/a.tar" .
mv "$tmp/a.tar" "$out"
echo "$out: $count kernels"
