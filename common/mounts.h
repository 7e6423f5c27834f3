// The host's mount table (/proc/self/mounts, fstab syntax with octal escapes), read through
// glibc's getmntent_r rather than a parser of our own.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/host_fs.h"

namespace cnm {

struct Mount {
  std::string source, dir, type, options;
};

// nullopt when the host description has no mount table.
std::optional<std::vector<Mount>> read_mounts(const HostFs& fs);

}  // namespace cnm
