#pragma once

#include "common/cli_context.h"

namespace cnm {

// `cnmctl selinux install|remove|status [--root DIR] [--policy FILE] [--binary PATH]
//                                        [--dry-run] [--json]`
// Exit 0: done (or nothing to do), 1: failed and the store is unchanged (bad policy, no store,
// no privileges, libsemanage refused), 2: usage.
void add_selinux_commands(CLI::App& app, CliContext& ctx);

}  // namespace cnm
