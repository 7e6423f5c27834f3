// `cnmctl selinux install|remove`: one idempotent, reversible step that puts our policy module
// and its fcontext rules into the policy store (one libsemanage transaction, one commit) and
// relabels the probe's files. Nothing is committed when nothing differs: a commit rebuilds the
// whole policy and costs seconds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/layout.h"
#include "selinux/policy_module.h"

namespace cnm::selinux {

struct ChangeOptions {
  Layout layout;  // the mode the probe runs in: its binary is relabelled
  // The other mode's layout: its paths get the same fcontext rules, so a host that moves
  // between agent and standalone mode needs no new policy commit.
  std::optional<Layout> other_mode;
  std::optional<std::string> policy_file;  // --policy: a modified .te instead of ours
  std::optional<std::string> binary;       // --binary: the probe's path on the host
  bool dry_run = false;
};

struct ChangeReport {
  std::string action;  // "install" or "remove"
  std::string module;
  std::string version;   // of the module installed (install) or found (remove)
  bool changed = false;  // the store was committed, or (dry run) would be
  bool committed = false;
  double commit_seconds = 0;
  std::vector<std::string> steps;  // what was (or, dry run, would be) done, in order
  std::vector<std::string> notes;  // e.g. SELinux is off: takes effect at next boot
};

// Throws PolicyError (bad --policy), StoreError (store, privileges, libsemanage) or
// std::runtime_error (tools, relabelling); the store is unchanged whenever the commit failed.
ChangeReport install(const ChangeOptions& o);
ChangeReport remove(const ChangeOptions& o);

// Where the installed module's version is recorded: libsemanage 3.4 keeps no version for a
// module, so install writes it next to the module in the store (remove deletes the folder).
// store_path: the store's host path (selinux/store_location.h), e.g. /var/lib/selinux/default.
std::string version_marker(const std::string& store_path, const std::string& module);

}  // namespace cnm::selinux
