// The subcommands cnmctl runs in its own process (the others are exec'd siblings, cnmctl.cpp),
// declared once: cnmctl registers these, and cnmctl-docs renders them with the siblings'.
#pragma once

#include <vector>

#include "checks/fleet_report_cli.h"
#include "checks/preflight_cli.h"
#include "cli/cnmctl_app.h"

namespace cnm {

inline std::vector<CommandRegistrar> cnmctl_own_commands() {
  return {add_preflight_command, add_fleet_command};
}

}  // namespace cnm
