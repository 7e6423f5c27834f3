#include "probe/cgroup_paths.h"

#include <mntent.h>
#include <sys/stat.h>

#include <cstring>

namespace cnm::probe {

std::filesystem::path CgroupPaths::find_cgroup2_mount() {
  FILE* f = ::setmntent("/proc/self/mounts", "re");
  if (!f) return {};
  std::filesystem::path found;
  while (const mntent* m = ::getmntent(f)) {
    if (std::strcmp(m->mnt_type, "cgroup2") == 0) {
      found = m->mnt_dir;
      break;
    }
  }
  ::endmntent(f);
  return found;
}

void CgroupPaths::walk() {
  last_walk_ = std::chrono::steady_clock::now();
  walked_ = true;
  if (mount_.empty()) return;
  if (paths_.size() > kMaxPaths) paths_.clear();
  auto add = [&](const std::filesystem::path& dir, const std::string& rel) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) paths_[static_cast<std::uint64_t>(st.st_ino)] = rel;
  };
  add(mount_, "/");
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(
      mount_, std::filesystem::directory_options::skip_permission_denied, ec);
  // Only folders are cgroups; a bounded walk even on a host with a runaway number of them.
  std::size_t seen = 0;
  for (const std::filesystem::recursive_directory_iterator end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (++seen > kMaxPaths) break;
    add(it->path(), "/" + std::filesystem::relative(it->path(), mount_, ec).string());
  }
}

std::optional<std::string> CgroupPaths::path_of(std::uint64_t id) {
  if (id == 0) return std::nullopt;
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  if (!walked_ || std::chrono::steady_clock::now() - last_walk_ >= std::chrono::seconds(1)) {
    walk();
    if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace cnm::probe
