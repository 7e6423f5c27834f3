#!/usr/bin/env bash
# Prints the path of an overlay layer that adds python3 and python3-apt (what Ansible's modules
# and its apt module need on a managed host) and policycoreutils (what an SELinux host has; its
# hll/pp converter runs at every policy store commit) to the cached Debian 12 root of
# make_root.sh, which has none of them. The layer is the upper folder of an overlay in which apt-get installed them
# from the configured mirror; tests mount it as a lower layer above that root. Cached under
# /var/cache/cnmkit/ keyed by the root's own cache name and the suffix below, built in a temp
# folder and renamed under a lock (about 30 s cold). Usage: make_python_layer.sh ROOT
set -euo pipefail
lower=$(realpath "$1")
cache=${CNMKIT_CACHE:-/var/cache/cnmkit}
# Bump the suffix when the package list changes.
layer="$cache/python-layer-$(basename "$lower")-v2"
exec 9>"$cache/python-layer.lock"
flock 9
if [ ! -x "$layer/usr/bin/python3" ]; then
  tmp=$(mktemp -d "$cache/python-layer-build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mkdir "$tmp/upper" "$tmp/work" "$tmp/merged"
  # A private mount namespace: every mount below goes away with it, also on failure.
  unshare --mount --propagation private bash -euo pipefail -c '
    tmp=$1 lower=$2
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$tmp/upper,workdir=$tmp/work" "$tmp/merged"
    mount -t proc proc "$tmp/merged/proc"
    # Name resolution for apt: the build host'"'"'s resolv.conf, bound (not copied) in.
    [ -e "$tmp/merged/etc/resolv.conf" ] || : >"$tmp/merged/etc/resolv.conf"
    mount --bind /etc/resolv.conf "$tmp/merged/etc/resolv.conf"
    chroot "$tmp/merged" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -qq -y --no-install-recommends python3 python3-apt policycoreutils >/dev/null && \
      apt-get clean && rm -rf /var/lib/apt/lists/*"
    umount "$tmp/merged/etc/resolv.conf" "$tmp/merged/proc"
    [ -s "$tmp/merged/etc/resolv.conf" ] || rm -f "$tmp/merged/etc/resolv.conf"
  ' _ "$tmp" "$lower" >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log" >&2; exit 1; }
  rm -rf "$tmp/upper/proc"/* 2>/dev/null || true
  mv "$tmp/upper" "$layer"
fi
echo "$layer"
