#include "tests/support/debian_root.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

namespace cnm::test {

DebianRootOverlay::DebianRootOverlay(const std::string& maker)
    : root_(dir_ / "root"), results_(dir_ / "results") {
  const auto cache = run({"bash", (source_dir() / maker).string()});
  if (cache.exit_code != 0) {
    error_ = "cannot build the Debian root: " + cache.err;
    return;
  }
  const auto upper = dir_ / "upper", work = dir_ / "work";
  for (const auto& p : {upper, work, root_, results_}) std::filesystem::create_directories(p);
  const std::string opts = "lowerdir=" + trimmed(cache.out) + ",upperdir=" + upper.string() +
                           ",workdir=" + work.string();
  if (::mount("overlay", root_.c_str(), "overlay", 0, opts.c_str()) != 0) {
    error_ = std::string("overlay mount: ") + std::strerror(errno);
    return;
  }
  mounted_ = true;
  std::filesystem::copy_file(CNM_DEB_PACKAGE, root_ / "var/tmp/cnmkit.deb");
}

DebianRootOverlay::~DebianRootOverlay() {
  if (mounted_) ::umount2(root_.c_str(), MNT_DETACH);
}

std::string trimmed(const std::string& s) {
  const auto e = s.find_last_not_of(" \n\r\t");
  return e == std::string::npos ? "" : s.substr(0, e + 1);
}

nlohmann::json json_file(const std::filesystem::path& p) {
  return nlohmann::json::parse(read_file(p), nullptr, false);
}

}  // namespace cnm::test
