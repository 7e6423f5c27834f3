#include "selinux/relabel.h"

#include <selinux/label.h>
#include <selinux/restorecon.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "common/root_dir.h"

namespace cnm::selinux {

std::string file_label(const std::string& path) {
  char buf[512];
  const ssize_t n = ::lgetxattr(path.c_str(), "security.selinux", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::vector<RelabelResult> relabel(const Layout& layout, const std::string& policy_type,
                                   const std::vector<FcontextRule>& rules) {
  // The policy's own file_contexts (plus .local and .homedirs, which the file backend loads
  // next to it), not the running kernel's: the host under --root may not be this one.
  const std::string spec =
      layout.at("/etc/selinux/" + policy_type + "/contexts/files/file_contexts").string();
  selinux_opt opts[] = {{SELABEL_OPT_PATH, spec.c_str()}};
  std::unique_ptr<selabel_handle, decltype(&selabel_close)> h(
      selabel_open(SELABEL_CTX_FILE, opts, 1), selabel_close);
  if (!h)
    throw std::runtime_error("cannot open file contexts " + spec + ": " + std::strerror(errno));
  selinux_restorecon_set_sehandle(h.get());
  // Under --root, paths are looked up without the root prefix (the rules name host paths).
  const std::string root = layout.root.string();
  if (!layout.is_live()) selinux_restorecon_set_alt_rootpath(root.c_str());
  std::vector<RelabelResult> out;
  const RootDir jail(layout.root);
  for (const auto& r : rules) {
    // selinux_restorecon resolves the path on the host: it must reach the root's own file.
    if (const auto link = jail.first_escape(r.host_path); !link.empty()) {
      selinux_restorecon_set_sehandle(nullptr);
      throw std::runtime_error(jail.display(link).string() +
                               " leads out of --root; not relabelling through it");
    }
    const std::string p = layout.at(r.host_path).string();
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(p, ec))) continue;
    RelabelResult res;
    res.host_path = r.host_path;
    res.before = file_label(p);
    unsigned int flags = SELINUX_RESTORECON_IGNORE_DIGEST;
    if (r.recursive) flags |= SELINUX_RESTORECON_RECURSE;
    if (selinux_restorecon(p.c_str(), flags) != 0) {
      const int e = errno;
      selinux_restorecon_set_sehandle(nullptr);
      throw std::runtime_error("cannot relabel " + p + ": " + std::strerror(e));
    }
    res.after = file_label(p);
    out.push_back(res);
  }
  // The handle dies here; do not leave libselinux holding it.
  selinux_restorecon_set_sehandle(nullptr);
  return out;
}

}  // namespace cnm::selinux
