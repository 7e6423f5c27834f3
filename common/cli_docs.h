// Man pages and bash completion rendered from a CLI11 command tree: the same definitions that
// `--help` prints, so the shipped documentation cannot drift from the binaries (the packaging
// tool cli/cnmctl_docs.cpp builds the trees from each part's registrar and writes the files).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace cnm {

struct ManPage {
  std::string file_name;  // "cnmctl-install.1"
  std::string text;       // roff (man(7) macros)
};

struct ManInfo {
  std::string program;  // "cnmctl"
  int section = 1;
  std::string version;      // "cnmkit 0.1.0"
  std::string exit_status;  // text of the EXIT STATUS section, empty for none
};

// One page for the program itself (its options and a list of its subcommands) and one per
// top-level subcommand ("cnmctl-config.1" documents `config enable` too).
std::vector<ManPage> man_pages(const CLI::App& app, const ManInfo& info);

// A bash script that completes the program's subcommands (at any depth), each command's
// options, and file names after an option that takes a value.
std::string bash_completion(const CLI::App& app, std::string_view program);

}  // namespace cnm
