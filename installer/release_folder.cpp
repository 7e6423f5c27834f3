// A release unpacked in a folder (the packages' payload, /usr/lib/cnmkit): the same policy as
// the archive (names, only those of release_contents.h, regular files only, sizes, counts,
// MANIFEST.sha256) applied to a tree on disk. Links are never followed: a symlink, device,
// FIFO or socket anywhere in the tree refuses the whole release, as it does in an archive.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "installer/file_action.h"
#include "installer/release_archive.h"
#include "installer/release_manifest.h"

namespace cnm {
namespace {

struct Walk {
  const std::filesystem::path& top;
  const ArchiveLimits& limits;
  std::set<std::string> names;
  std::size_t total = 0;

  void folder(const std::filesystem::path& dir, const std::string& prefix) {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec), end;
    if (ec) refuse_release(dir.string() + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) refuse_release(dir.string() + ": " + ec.message());
      entry(it->path(), prefix + it->path().filename().string());
    }
  }

  void entry(const std::filesystem::path& p, const std::string& raw) {
    const std::string name = checked_release_name(raw.c_str());
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) refuse_release(p.string() + ": " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      if (!is_release_folder(name)) refuse_release("folder '" + name + "' is not in a release");
      return folder(p, name + "/");
    }
    if (S_ISLNK(st.st_mode)) refuse_release("symbolic link '" + name + "'");
    if (!S_ISREG(st.st_mode)) refuse_release("'" + name + "' is a device, FIFO or socket");
    if (!is_release_file(name)) refuse_release("'" + name + "' is not a file a release holds");
    if (names.size() >= limits.max_entries)
      refuse_release("more than " + std::to_string(limits.max_entries) + " entries");
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size > limits.max_entry_bytes)
      refuse_release("'" + name + "' is larger than " + std::to_string(limits.max_entry_bytes) +
                     " bytes");
    if ((total += size) > limits.max_total_bytes)
      refuse_release("the files hold more than " + std::to_string(limits.max_total_bytes) +
                     " bytes in all");
    names.insert(name);
  }
};

}  // namespace

Release read_release_folder(const std::filesystem::path& dir, const ArchiveLimits& limits) {
  Walk walk{dir, limits, {}, 0};
  walk.folder(dir, "");
  return verified_release(walk.names, [&](const std::string& name) {
    std::optional<std::string> content;
    try {
      content = read_whole(dir / name);  // regular files only, links never followed
    } catch (const std::exception& e) {
      refuse_release("cannot read " + (dir / name).string() + ": " + e.what());
    }
    if (!content) refuse_release((dir / name).string() + " vanished while it was read");
    return std::move(*content);
  });
}

std::optional<std::filesystem::path> installed_payload() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const auto payload = self.parent_path() / "../../lib/cnmkit";
  if (!std::filesystem::is_regular_file(payload / kManifestName, ec)) return std::nullopt;
  return payload.lexically_normal();
}

}  // namespace cnm
