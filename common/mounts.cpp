#include "common/mounts.h"

#include <mntent.h>

#include <cstdio>

namespace cnm {

std::optional<std::vector<Mount>> read_mounts(const HostFs& fs) {
  for (const char* f : {"/proc/self/mounts", "/proc/mounts"}) {
    if (!fs.exists(f)) continue;
    FILE* m = ::setmntent(fs.path(f).c_str(), "r");
    if (!m) continue;
    std::vector<Mount> out;
    struct mntent ent {};
    char buf[8192];
    while (::getmntent_r(m, &ent, buf, sizeof buf))
      out.push_back({ent.mnt_fsname, ent.mnt_dir, ent.mnt_type, ent.mnt_opts});
    ::endmntent(m);
    return out;
  }
  return std::nullopt;
}

}  // namespace cnm
