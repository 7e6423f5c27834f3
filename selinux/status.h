// What SELinux looks like on a host, as far as the probe is concerned: the kernel's mode, the
// configured policy, whether our module is in the policy store (and its version), and whether
// the probe binary carries our type. Read from files only, so it works under --root and costs
// no policy load; the preflight's security.selinux check uses it.
#pragma once

#include <optional>
#include <string>

#include "common/host_fs.h"
#include "common/layout.h"
#include "selinux/store_location.h"

namespace cnm::selinux {

struct Status {
  std::string mode;  // "enforcing", "permissive", "disabled" (not in the kernel)
  // The configuration and the policy store's host path (selinux/store_location.h);
  // store.problem: semanage.conf cannot be used (install refuses the host).
  StoreLocation store;
  bool store_present = false;
  bool store_readable = true;  // false when the store exists but this user may not read it
                               // (module_installed is then unknown, reported false)
  bool module_installed = false;
  std::string module_version;          // "" when unknown
  std::optional<bool> binary_labeled;  // nullopt when the binary is missing or unlabelable
  std::string binary_context;          // security.selinux xattr of the probe binary
};

Status read_status(const Layout& layout);

// The running kernel's mode (Status::mode) alone: /sys/fs/selinux/enforce under fs's root.
std::string selinux_mode(const HostFs& fs);

}  // namespace cnm::selinux
