// Whole-file replacement that never leaves a half-written file: write a temp file
// (".NAME.cnmkit-XXXXXX") in the same folder, fsync it, rename it over the target, fsync the
// folder. Under --root the folder is resolved inside the root (common/root_dir.h), so a link
// among the parents never leads a write out of it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/root_dir.h"

namespace cnm {

struct FileOwner {
  uid_t uid;
  gid_t gid;
};

// Throws std::system_error naming the path on any failure; the target is then untouched.
void atomic_write(const RootDir& root, std::string_view host_path, std::string_view content,
                  mode_t mode, std::optional<FileOwner> owner = std::nullopt);
// The same for a path on the live host.
void atomic_write(const std::filesystem::path& target, std::string_view content, mode_t mode,
                  std::optional<FileOwner> owner = std::nullopt);
// The same in an open folder.
void atomic_write_at(int dirfd, const std::string& name, std::string_view content, mode_t mode,
                     std::optional<FileOwner> owner, const std::string& display);

// A fresh temp name for `target` (".TARGET.cnmkit-XXXXXX", random), for a temp folder too.
std::string temp_name_for(const std::string& target);

// The target a temp file name of atomic_write's is for (".TARGET.cnmkit-XXXXXX" -> TARGET),
// nullopt for any other name: a run killed mid-write leaves one, which the next run removes.
std::optional<std::string_view> temp_file_target(std::string_view name);

}  // namespace cnm
