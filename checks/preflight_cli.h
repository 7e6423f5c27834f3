#pragma once

#include "common/cli_context.h"

namespace cnm {

// `cnmctl preflight [--json] [--root DIR] [--kernel-release R] [--cilium-version V]
//                   [--agent-version V] [--strict] [--bpf-objects DIR]`
void add_preflight_command(CLI::App& app, CliContext& ctx);

}  // namespace cnm
