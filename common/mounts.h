// The host's mount table, from /proc/self/mountinfo (proc(5)): the one reader of it, for the
// preflight's checks and the probe (the cgroup2 hierarchy's root). mountinfo rather than
// /proc/self/mounts because only it says which folder of a file system a mount shows (its
// root): a cgroup2 mount that is a bind mount of one cgroup (a container's /sys/fs/cgroup
// without a cgroup namespace) is no root of the hierarchy. Every Linux since 2.6.26 has it
// (commit 2d4d4864ac08, "vfs: mountinfo: add /proc/<pid>/mountinfo").
//
// Parsed here rather than by util-linux's libmount: Debian ships libmount only as a shared
// library (libmount-dev has no libmount.a), and the shipped binaries are static-pie
// (cmake/CnmDeps.cmake); glibc's getmntent reads the fstab format of /proc/self/mounts only.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_fs.h"

namespace cnm {

// One line of mountinfo, octal escapes (\040 for a space) undone.
struct Mount {
  std::string root;     // the folder of the file system mounted at dir: "/" unless a bind mount
  std::string dir;      // the mount point
  std::string options;  // this mount's own options (rw,nosuid,...)
  std::string type;     // after the " - ": the file system type ("cgroup2", "fuse.sshfs")
  std::string source;   // "/dev/sda1", "none"
};

// A mount table larger than this is read up to it (thousands of mounts fit).
inline constexpr std::size_t kMaxMountTableBytes = 8u << 20;

// Every well-formed line of mountinfo text: ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS
// [OPTIONAL_FIELDS...] - FSTYPE SOURCE SUPER_OPTIONS. A line that lacks a field up to SOURCE
// is passed over; so is a last line without its '\n' when `truncated` (cut by the size limit).
std::vector<Mount> parse_mountinfo(std::string_view text, bool truncated = false);

// nullopt when the host description has no mount table (or it is not a regular file).
// `why`, when given, says why not ("/proc/self/mountinfo is missing", "... is a FIFO, ...").
std::optional<std::vector<Mount>> read_mounts(const HostFs& fs, std::string* why = nullptr);

// The first mount of this type whose root is the file system's own ("/"), or nullptr.
const Mount* find_whole_mount(const std::vector<Mount>& ms, std::string_view type);

}  // namespace cnm
