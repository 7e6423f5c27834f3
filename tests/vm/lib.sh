# shellcheck shell=bash disable=SC2034  # sourced: vm_here is used by the scripts that source it
# Shared by the tests/vm scripts (sourced): the cache folder, a content hash of the files a
# build depends on, and a progress message on stderr.
vm_cache=${CNMKIT_CACHE:-/var/cache/cnmkit}/vm
vm_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$vm_cache"

# vm_hash FILE... : the first 12 hex digits of the sha256 of the files' contents (and of any
# extra words given in $VM_HASH_EXTRA), so a cache entry changes whenever what built it does.
vm_hash() {
  { cat "$@"; printf '%s' "${VM_HASH_EXTRA:-}"; } | sha256sum | cut -c1-12
}

# vm_log MSG: progress on stderr (stdout carries the result path).
vm_log() { echo "vm: $*" >&2; }
