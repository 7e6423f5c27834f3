// The file-context rules cnmkit adds for the probe (what `semanage fcontext -a` would add): its
// binary gets the probe's type, its run directory (unix socket) the run type. Paths come from
// the Layout, so an operator's layout moves the rules with the files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/layout.h"

namespace cnm::selinux {

struct FcontextRule {
  std::string expr;       // a file_contexts regular expression, e.g. "/opt/x/bin/system-probe"
  int file_type;          // SEMANAGE_FCONTEXT_REG, _ALL...
  std::string type;       // SELinux type, e.g. "system_probe_t"
  std::string host_path;  // the path to relabel afterwards (absolute, on the host)
  bool recursive;         // relabel below host_path too
};

// The run directory's type: declared by system_probe_policy.te next to Layout::selinux_type.
std::string run_dir_type(const Layout& layout);

std::vector<FcontextRule> fcontext_rules(const Layout& layout);

// A literal path as a file_contexts regular expression: regex metacharacters escaped.
std::string escape_fcontext_path(std::string_view path);

// The expression a rule for `path` uses: the path escaped, but for the Datadog installer's
// package folder (common/layout.h, kInstallerAgentDir), whose "stable" link stands for the
// folder of any version ("[^/]+").
std::string fcontext_expr(std::string_view path);

// "system_u:object_r:TYPE" plus ":s0" on an MLS policy.
std::string file_context(const std::string& type, bool mls);

}  // namespace cnm::selinux
