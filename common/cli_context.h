// What cnmctl's subcommands share: global options, and the exit code a subcommand sets.
// Each part adds its own subcommands (add_*_commands) so cli/cnmctl.cpp stays a thin shell.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>

#include "common/layout.h"

namespace cnm {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFit = 1;  // unsupported host, or a failed (rolled back) step
inline constexpr int kExitUsage = 2;   // usage or internal error
// The contract above as the man pages state it.
inline constexpr const char* kExitStatusText =
    "0: done (changed or not), or the host is fit. 1: the host is not fit, or a step failed and "
    "was rolled back. 2: usage or internal error.";

struct CliContext {
  int verbosity = 0;
  std::string layout_file;  // --layout or $CNMKIT_LAYOUT
  int exit_code = kExitOk;

  // The layout for a subcommand's --root, with the operator's overrides applied.
  Layout layout(const std::string& root) const {
    const std::filesystem::path r =
        root.empty() ? std::filesystem::path("/") : std::filesystem::path(root);
    return layout_file.empty() ? default_layout(r) : load_layout(layout_file, r);
  }
};

}  // namespace cnm
