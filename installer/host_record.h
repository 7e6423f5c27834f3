// What an install did besides files, so uninstall undoes exactly that: the mode it installed
// (common/layout.h), the services it enabled at boot (never one it found enabled), and whether
// it put the SELinux module in the policy. A plan says what its run will record; the install
// state (install_state.h) keeps it with the files' records.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/layout.h"

namespace cnm {

struct HostRecord {
  std::optional<ProbeMode> mode;  // nullopt: nothing recorded (a state from before modes)
  std::vector<std::string> enabled_services;
  bool selinux_module = false;
  // The install's layout for `mode` (layout_overrides_yaml: the fields that differ from the
  // mode's defaults, "{}\n" when none); empty when not recorded (a state from before it).
  // Later commands act on these paths, not on the defaults (installer/host_layout.h).
  std::string layout;
  bool operator==(const HostRecord&) const = default;
};

}  // namespace cnm
