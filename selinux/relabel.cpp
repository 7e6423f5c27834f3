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

namespace {

// The path to relabel for a rule's: itself, unless a link on its way resolves out of the root
// on the host while it leads to a file of the root inside it (the Datadog installer's `stable`
// link is absolute: /opt/datadog-packages/datadog-agent/7.60.0-1). Then the path that link
// leads to inside the root, which the host resolves alike and the rule's pattern still matches
// (selinux/fcontext.h writes the version folder as [^/]+). restorecon labels a link's target
// by its real path on the live host too.
std::string in_root_target(const RootDir& jail, const std::string& host_path) {
  const auto parent = host_path.substr(0, host_path.rfind('/'));
  if (parent.empty() || jail.resolves_alike(parent)) return host_path;
  const auto real = jail.real_path(parent);
  return real ? (*real == "/" ? "" : *real) + host_path.substr(host_path.rfind('/')) : host_path;
}

}  // namespace

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
    const std::string target = in_root_target(jail, r.host_path);
    if (const auto link = jail.first_escape(target); !link.empty()) {
      selinux_restorecon_set_sehandle(nullptr);
      throw std::runtime_error(jail.display(link).string() +
                               " leads out of --root; not relabelling through it");
    }
    const std::string p = layout.at(target).string();
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(p, ec))) continue;
    RelabelResult res;
    res.host_path = target;
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
