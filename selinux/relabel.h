// Relabelling files after the fcontext rules changed (what restorecon does), through libselinux's
// selinux_restorecon with a file_contexts handle opened on the host under Layout::root. Works
// with SELinux off in the kernel: it writes the security.selinux attribute all the same.
#pragma once

#include <string>
#include <vector>

#include "common/layout.h"
#include "selinux/fcontext_rules.h"

namespace cnm::selinux {

struct RelabelResult {
  std::string host_path;
  std::string before;  // security.selinux before ("" when unlabelled)
  std::string after;
  bool changed() const { return before != after; }
};

// Relabels each rule's path that exists; absent paths are skipped (the probe may not be
// installed yet: the rule labels it when it is). Throws std::runtime_error when the policy's
// file_contexts cannot be opened or a label cannot be written.
std::vector<RelabelResult> relabel(const Layout& layout, const std::string& policy_type,
                                   const std::vector<FcontextRule>& rules);

// The security.selinux attribute of a file, "" when it has none.
std::string file_label(const std::string& path);

}  // namespace cnm::selinux
