// What SELinux looks like on a host, as far as the probe is concerned: the kernel's mode, the
// configured policy, whether our module is in the policy store (and its version), and whether
// the probe binary carries our type. Read from files only, so it works under --root and costs
// no policy load; the preflight's security.selinux check uses it.
#pragma once

#include <optional>
#include <string>

#include "common/layout.h"

namespace cnm::selinux {

struct Status {
  std::string mode;         // "enforcing", "permissive", "disabled" (not in the kernel)
  std::string config_mode;  // SELINUX= in /etc/selinux/config, "" when absent
  std::string policy_type;  // SELINUXTYPE=, e.g. "default", "targeted"
  // The policy store's host path (selinux/store_location.h), "" without a policy type.
  std::string store_path;
  std::string store_problem;  // semanage.conf cannot be used: why (install refuses the host)
  bool store_present = false;
  bool store_readable = true;  // false when the store exists but this user may not read it
                               // (module_installed is then unknown, reported false)
  bool module_installed = false;
  std::string module_version;          // "" when unknown
  std::optional<bool> binary_labeled;  // nullopt when the binary is missing or unlabelable
  std::string binary_context;          // security.selinux xattr of the probe binary
};

Status read_status(const Layout& layout);

}  // namespace cnm::selinux
