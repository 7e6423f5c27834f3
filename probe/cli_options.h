// cnm-probe's command line, declared once: main.cpp parses it and the packaging tool
// (cli/cnmctl_docs.cpp) renders cnm-probe(8) and its completion from the same definitions.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace cnm::probe {

struct CliOptions {
  std::string config;       // --config (default: the layout's config_file)
  std::string layout_file;  // --layout or $CNMKIT_LAYOUT
  int verbosity = 1;
};

// Description, version flag and options on a fresh app.
void define_cli(CLI::App& app, CliOptions& o);

inline constexpr const char* kCliDescription =
    "cnm-probe: TCP connections collected with eBPF, served over a unix socket";

}  // namespace cnm::probe
