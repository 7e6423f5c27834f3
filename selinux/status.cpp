#include "selinux/status.h"

#include <fcntl.h>
#include <sys/xattr.h>

namespace cnm::selinux {

std::string selinux_mode(const HostFs& fs) {
  if (const auto t = fs.read("/sys/fs/selinux/enforce", 64))
    return first_line(t->text) == "1" ? "enforcing" : "permissive";
  return "disabled";
}

Status read_status(const Layout& layout) {
  Status s;
  const HostFs fs(layout.root);
  s.mode = selinux_mode(fs);
  s.store = store_location(fs);
  if (!s.store.path.empty()) {
    const std::string store = s.store.path + "/active/modules";
    // The store is root's (0700): tell "absent" from "not readable by this user".
    const StoreDir there = store_dir(fs, store);
    s.store_present = there != StoreDir::kAbsent;
    s.store_readable = there != StoreDir::kClosed;
    // Modules live under a priority folder (400 for local modules, 100 for the base policy).
    for (const auto& prio : fs.list(store)) {
      const std::string module_dir = store + "/" + prio + "/" + layout.selinux_module;
      if (fs.is_dir(module_dir)) {
        s.module_installed = true;
        if (const auto v = fs.read(module_dir + "/cnmkit-version", 256))
          s.module_version = first_line(v->text);
      }
    }
  }
  char ctx[256];
  // The binary inside the root (links resolved there), its label read from the open file.
  const UniqueFd bin = fs.dir().open(layout.probe_binary, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  const ssize_t n = bin ? ::fgetxattr(bin.get(), "security.selinux", ctx, sizeof ctx - 1) : -1;
  if (n > 0) {
    s.binary_context.assign(ctx, static_cast<std::size_t>(n));
    while (!s.binary_context.empty() && s.binary_context.back() == '\0')
      s.binary_context.pop_back();
    s.binary_labeled = s.binary_context.find(":" + layout.selinux_type + ":") != std::string::npos;
  }
  return s;
}

}  // namespace cnm::selinux
