// Computes the whole install plan from the host, the release (optional) and the options. What
// it holds depends on the mode (common/layout.h):
//   agent       the seed's steps and nothing else: system-probe.yaml from the Agent's example
//               where absent, the enable key; the Agent's own system-probe unit enabled and
//               started on Agents that do not start it (before 6.18/7.18); our SELinux module
//               and the label on the Agent's binary; an Agent restart; the Agent's probe must
//               answer on its socket. Never a unit, binary or token of the Agent's.
//   standalone  cnm-probe under cnmkit's names: binary and BPF objects from the release, the
//               unit and init script, the config, a BTF archive when given; the service
//               enabled and (re)started.
// Either way no file another package owns is ever written (installer/package_files.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/layout.h"
#include "common/probe_mode.h"
#include "installer/agent_version.h"
#include "installer/btf_archive_input.h"
#include "installer/config_step.h"
#include "installer/plan.h"
#include "installer/release_archive.h"
#include "installer/service_manager.h"

namespace cnm {

// SELinux as the plan sees it: on a live host where the kernel enforces or logs it, the sibling
// `cnmctl selinux` puts our module in the policy and labels the probe's binary, after the
// files are written and before the service starts.
struct SelinuxState {
  bool enabled = false;              // the running kernel has SELinux on (live hosts only)
  std::vector<std::string> command;  // argv up to the subcommand: ".../cnmctl-selinux [--layout F]"
  bool module_installed = false;     // before this run
  bool binary_labeled = false;       // the mode's probe binary, before this run
};

struct InstallRequest {
  std::optional<Release> release;
  // --btf-archive: a fleet's BTF archive, read and checked (btf_archive_input.h); standalone.
  std::optional<BtfArchiveInput> btf_archive;
  AgentInfo agent;
  ConfigRequest config;
  ServiceManager manager = ServiceManager::None;  // already resolved
  ModeChoice mode;                                // how the layout's mode was chosen
  SelinuxState selinux;
};

// Throws std::runtime_error when the layout's values cannot be written into cnm-probe's unit
// and init script as they are (characters needing quotes, run_dir not under /run). Standalone
// installs check it before anything changes, a switch from the other mode included.
void check_service_files_layout(const Layout& layout);

// Fills {{layout_field}} placeholders of the unit and init script templates. Throws
// std::runtime_error as check_service_files_layout does.
std::string render_template(std::string_view tmpl, const Layout& layout);

// Where a release entry goes on a standalone host and with which mode (its ReleaseFile's dest
// and mode, release_contents.h); nullopt for the files the plan reads (unit, init script,
// example) and for names no release holds. Agent mode installs no release file (the Agent's
// package has them all).
std::optional<std::pair<std::string, mode_t>> release_destination(const Layout& layout,
                                                                  const std::string& entry);

// Throws std::runtime_error, before anything is written, when the plan would write a file
// that a package owns. The release is one its reader checked has what the mode needs
// (check_release_complete, release_contents.h: `cnmctl install` refuses an incomplete one
// before it changes anything). The release's contents move into the plan's files (pass the
// request with std::move to hold them once).
Plan plan_install(const Layout& layout, InstallRequest req, const CommandRunner& run);

}  // namespace cnm
