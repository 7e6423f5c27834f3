#include "probe/cgroup_paths.h"

#include <dirent.h>
#include <sys/stat.h>

#include <functional>
#include <vector>

#include "common/host_fs.h"
#include "common/mounts.h"

namespace cnm::probe {

std::filesystem::path CgroupPaths::find_cgroup2_mount() {
  if (const auto ms = read_mounts(HostFs("/")))
    for (const auto& m : *ms)
      if (m.type == "cgroup2") return m.dir;
  return {};
}

namespace {

// mountinfo's escapes: \ooo (three octal digits) for a space, tab, newline or backslash.
std::string unescape_octal(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::optional<std::filesystem::path> cgroup2_root_from_mountinfo(std::string_view mountinfo) {
  while (!mountinfo.empty()) {
    const auto eol = mountinfo.find('\n');
    const std::string_view line = mountinfo.substr(0, eol);
    mountinfo = eol == std::string_view::npos ? std::string_view() : mountinfo.substr(eol + 1);
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    std::vector<std::string_view> f;
    for (std::size_t at = 0; at < line.size();) {
      const auto sp = line.find(' ', at);
      const auto end = sp == std::string_view::npos ? line.size() : sp;
      if (end > at) f.push_back(line.substr(at, end - at));
      at = end + 1;
    }
    std::size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (f.size() < 5 || dash + 1 >= f.size() || f[dash + 1] != "cgroup2") continue;
    if (unescape_octal(f[3]) != "/") continue;
    return std::filesystem::path(unescape_octal(f[4]));
  }
  return std::nullopt;
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
