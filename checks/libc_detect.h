// Which C library the host's programs use, from the root's files (never from the process
// running cnmctl, which is static and carries its own): a fleet report groups hosts by it, and
// it says which userland a binary built for "glibc 2.x" would start on.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/host_fs.h"

namespace cnm {

struct LibcInfo {
  std::string name;                    // "glibc" or "musl"
  std::optional<std::string> version;  // "2.17"; nullopt when the files do not say
  std::string source;                  // the file it was read from
};

// arch: uname's machine ("x86_64", "aarch64"), for the multiarch folder names.
std::optional<LibcInfo> detect_libc(const HostFs& fs, std::string_view arch);

// "2.36" from glibc's banner ("GNU C Library (...) stable release version 2.36.") or from a
// library file name ("libc-2.17.so"); exposed for tests.
std::optional<std::string> glibc_version_from_banner(std::string_view bytes);
std::optional<std::string> glibc_version_from_file_name(std::string_view name);

}  // namespace cnm
