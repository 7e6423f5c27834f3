// The shell every cnmctl binary shares: global options (-v, --layout, --version), logging, and
// the exit code contract (0 ok, 1 not fit/failed, 2 usage or internal error). Each part adds its
// subcommands through a registrar.
#pragma once

#include <functional>
#include <vector>

#include "common/cli_context.h"

namespace cnm {

using CommandRegistrar = std::function<void(CLI::App&, CliContext&)>;

int run_cnmctl(int argc, char** argv, const std::vector<CommandRegistrar>& parts);

}  // namespace cnm
