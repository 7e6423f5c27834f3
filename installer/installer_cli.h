#pragma once

#include "common/cli_context.h"

namespace cnm {

// `cnmctl install`, `cnmctl uninstall`, `cnmctl status` and `cnmctl config enable`.
void add_installer_commands(CLI::App& app, CliContext& ctx);

}  // namespace cnm
