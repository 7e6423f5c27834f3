// The host's mount table (/proc/self/mounts, fstab syntax with octal escapes), read through
// glibc's getmntent_r rather than a parser of our own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/host_fs.h"

namespace cnm {

struct Mount {
  std::string source, dir, type, options;
};

// A mount table larger than this is read up to it (thousands of mounts fit).
inline constexpr std::size_t kMaxMountTableBytes = 8u << 20;

// nullopt when the host description has no mount table (or it is not a regular file).
// `why`, when given, says why not ("/proc/self/mounts is missing", "... is a FIFO, ...").
std::optional<std::vector<Mount>> read_mounts(const HostFs& fs, std::string* why = nullptr);

}  // namespace cnm
