#pragma once

#include "common/cli_context.h"

namespace cnm {

// `cnmctl fleet report [--failed HOST=REASON]... [--format json|markdown|csv]
//                      [--output-dir DIR] FILE...`
void add_fleet_command(CLI::App& app, CliContext& ctx);

}  // namespace cnm
