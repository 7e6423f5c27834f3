#include "common/mounts.h"

#include <mntent.h>

#include <cstdio>
#include <memory>

namespace cnm {

std::optional<std::vector<Mount>> read_mounts(const HostFs& fs, std::string* why) {
  std::string problem;
  for (const char* f : {"/proc/self/mounts", "/proc/mounts"}) {
    // Through the bounded reader (a FIFO or a link to /dev/zero is refused, not read), then
    // parsed by getmntent_r from memory.
    auto t = fs.read_file(f, kMaxMountTableBytes);
    if (!t.ok()) {
      if (problem.empty() || t.status != ReadStatus::Absent)
        problem = std::string(f) + " " + describe_unread(t, kMaxMountTableBytes);
      continue;
    }
    std::vector<Mount> out;
    if (t.text.empty()) return out;
    std::unique_ptr<FILE, int (*)(FILE*)> m(::fmemopen(t.text.data(), t.text.size(), "r"),
                                            &std::fclose);
    if (!m) continue;
    struct mntent ent {};
    char buf[8192];
    while (::getmntent_r(m.get(), &ent, buf, sizeof buf))
      out.push_back({ent.mnt_fsname, ent.mnt_dir, ent.mnt_type, ent.mnt_opts});
    return out;
  }
  if (why) *why = problem;
  return std::nullopt;
}

}  // namespace cnm
