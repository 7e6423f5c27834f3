// What an install did besides files, so uninstall undoes exactly that: the mode it installed
// (common/layout.h), the services it enabled at boot (never one it found enabled), and whether
// it put the SELinux module in the policy. A plan says what its run will record; the install
// state (installer/install_state.h) keeps it with the files' records in state.json, and every
// command that acts on an installed host reads it from there (common/host_layout.h): the
// installer, the preflight and `cnmctl selinux`.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
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
  // Later commands act on these paths, not on the defaults (common/host_layout.h).
  std::string layout;
  bool operator==(const HostRecord&) const = default;
};

// <state_dir>/state.json: what cnmkit recorded on the host.
std::string state_file(const Layout& layout);

// The largest state.json read whole (an install of 4,000 files records about 1.5 MB).
inline constexpr std::size_t kMaxStateFileBytes = 256u << 20;

// The error for a state.json that is not what cnmkit writes ("... is damaged; fix or remove it
// by hand").
std::runtime_error damaged_state(const Layout& layout);

// state.json parsed; nullopt when there is none. Throws std::runtime_error when it cannot be
// read (a link, not a regular file, unreadable, too large: never followed or read past the
// limit) or is not a JSON object (damaged_state).
std::optional<nlohmann::json> read_state_json(const Layout& layout);

// The host record's fields of a parsed state.json (absent ones keep their defaults); throws
// damaged_state when one has the wrong type or an unknown mode.
HostRecord host_record_from_state(const nlohmann::json& state, const Layout& layout);
// Sets them in a state.json object being written (the defaults are left out).
void put_host_record(const HostRecord& host, nlohmann::json& state);

}  // namespace cnm
