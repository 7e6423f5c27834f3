#include "selinux/status.h"

#include <sys/xattr.h>

#include "checks/os_release.h"
#include "common/host_fs.h"

namespace cnm::selinux {

Status read_status(const Layout& layout) {
  Status s;
  const HostFs fs(layout.root);
  if (const auto t = fs.read("/sys/fs/selinux/enforce", 64))
    s.mode = first_line(t->text) == "1" ? "enforcing" : "permissive";
  else
    s.mode = "disabled";
  if (const auto t = fs.read("/etc/selinux/config")) {
    const auto kv = parse_os_release(t->text);  // same KEY=VALUE syntax
    s.config_mode = kv.get("SELINUX");
    s.policy_type = kv.get("SELINUXTYPE");
  }
  if (!s.policy_type.empty()) {
    const std::string store = "/var/lib/selinux/" + s.policy_type + "/active/modules";
    s.store_present = fs.is_dir(store);
    // The store is root's (0700): tell "absent" from "not readable by this user".
    std::error_code perm_ec;
    (void)std::filesystem::status(fs.path(store), perm_ec);
    if (perm_ec == std::errc::permission_denied) {
      s.store_present = true;
      s.store_readable = false;
    }
    // Modules live under a priority folder (400 for local modules, 100 for the base policy).
    std::error_code ec;
    for (const auto& prio : std::filesystem::directory_iterator(fs.path(store), ec)) {
      if (std::filesystem::is_directory(prio.path() / layout.selinux_module, ec)) {
        s.module_installed = true;
        if (const auto v = fs.read(store + "/" + prio.path().filename().string() + "/" +
                                       layout.selinux_module + "/cnmkit-version",
                                   256))
          s.module_version = first_line(v->text);
      }
    }
  }
  char ctx[256];
  const auto bin = layout.at(layout.probe_binary);
  const ssize_t n = ::getxattr(bin.c_str(), "security.selinux", ctx, sizeof ctx - 1);
  if (n > 0) {
    s.binary_context.assign(ctx, static_cast<std::size_t>(n));
    while (!s.binary_context.empty() && s.binary_context.back() == '\0')
      s.binary_context.pop_back();
    s.binary_labeled = s.binary_context.find(":" + layout.selinux_type + ":") != std::string::npos;
  }
  return s;
}

}  // namespace cnm::selinux
