#include "probe/cgroup_paths.h"

#include <dirent.h>
#include <sys/stat.h>

#include <functional>

#include "common/host_fs.h"
#include "common/mounts.h"

namespace cnm::probe {

std::filesystem::path CgroupPaths::find_cgroup2_mount(std::string* why) {
  std::string unread;
  const auto ms = read_mounts(HostFs("/"), &unread);
  if (!ms) {
    if (why) *why = "cannot read the mount table: " + unread;
    return {};
  }
  if (const Mount* m = find_whole_mount(*ms, "cgroup2")) return m->dir;
  if (why) *why = "no cgroup2 mount of the hierarchy's root";
  return {};
}

namespace {

// Depth-first over the folders below dir with readdir's d_type and d_ino (no stat per entry,
// control files cost nothing); a folder that vanishes or cannot be read mid-walk is skipped,
// the rest still walked.
void walk_folders(const std::string& dir, const std::string& rel, std::size_t& budget,
                  const std::function<void(std::uint64_t, const std::string&)>& visit) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
    if (budget == 0) break;
    --budget;
    const std::string path = dir + "/" + e->d_name;
    const std::string child = (rel == "/" ? "" : rel) + "/" + e->d_name;
    visit(e->d_ino, child);
    walk_folders(path, child, budget, visit);
  }
  ::closedir(d);
}

}  // namespace

void CgroupPaths::walk() {
  last_walk_ = std::chrono::steady_clock::now();
  walked_ = true;
  if (mount_.empty()) return;
  if (paths_.size() > kMaxPaths) paths_.clear();
  auto add = [&](std::uint64_t ino, const std::string& rel) { paths_[ino] = rel; };
  struct stat st {};
  if (::stat(mount_.c_str(), &st) == 0) add(st.st_ino, "/");
  std::size_t budget = kMaxPaths;  // a bounded walk even on a host with a runaway number of them
  walk_folders(mount_.string(), "/", budget, add);
}

std::optional<std::string> CgroupPaths::path_of(std::uint64_t id) {
  if (id == 0) return std::nullopt;
  if (auto it = paths_.find(id); it != paths_.end()) return it->second;
  // An id that missed after a walk (a cgroup removed before any walk saw it, or one outside
  // this mount) does not walk again for a minute: misses would otherwise walk every second.
  const auto now = std::chrono::steady_clock::now();
  if (auto m = misses_.find(id); m != misses_.end() && now - m->second < std::chrono::minutes(1))
    return std::nullopt;
  if (!walked_ || now - last_walk_ >= std::chrono::seconds(1)) {
    walk();
    if (auto it = paths_.find(id); it != paths_.end()) return it->second;
    if (misses_.size() > kMaxPaths) misses_.clear();
    misses_[id] = now;
  }
  return std::nullopt;
}

}  // namespace cnm::probe
