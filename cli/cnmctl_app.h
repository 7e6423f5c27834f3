// The shell every cnmctl binary shares: global options (-v, --layout, --version), logging, and
// the exit code contract (0 ok, 1 not fit/failed, 2 usage or internal error). Each part adds its
// subcommands through a registrar.
#pragma once

#include <functional>
#include <vector>

#include "common/cli_context.h"

namespace cnm {

using CommandRegistrar = std::function<void(CLI::App&, CliContext&)>;

inline constexpr const char* kCnmctlDescription =
    "cnmkit: get Linux hosts ready for eBPF network monitoring";

// The options every cnmctl binary shares (-v, --layout, --version) on a fresh app.
void define_global_options(CLI::App& app, CliContext& ctx);

int run_cnmctl(int argc, char** argv, const std::vector<CommandRegistrar>& parts);

}  // namespace cnm
