// Whole-file replacement that never leaves a half-written file: write a temp file in the same
// folder, fsync it, rename it over the target, fsync the folder.
#pragma once

#include <sys/types.h>
#include <filesystem>
#include <optional>
#include <string_view>

namespace cnm {

struct FileOwner {
  uid_t uid;
  gid_t gid;
};

// Throws std::system_error naming the path on any failure; the target is then untouched.
void atomic_write(const std::filesystem::path& target, std::string_view content, mode_t mode,
                  std::optional<FileOwner> owner = std::nullopt);

}  // namespace cnm
