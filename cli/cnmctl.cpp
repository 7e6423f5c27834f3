// cnmctl: one command for the whole rollout. The preflight runs in this binary, which links only
// what it needs: it is the hot path (milliseconds, on every host, every run). The installer and
// SELinux subcommands pull in libarchive, OpenSSL, cpp-httplib and libsemanage (25 more shared
// libraries, ~20 ms of dynamic loading), so they live in sibling binaries that cnmctl execs,
// git-style: `cnmctl install ...` runs `cnmctl-installer install ...` with the same arguments.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "cli/cnmctl_app.h"
#include "cli/cnmctl_commands.h"

namespace {

struct Delegated {
  const char* binary;
  const char* help;
};

const std::map<std::string, Delegated>& delegated() {
  static const std::map<std::string, Delegated> m = {
      {"install",
       {"cnmctl-installer", "Install or update the probe: config, files, service, health"}},
      {"uninstall", {"cnmctl-installer", "Remove what cnmctl install put on the host"}},
      {"status", {"cnmctl-installer", "What cnmkit installed, and whether the probe runs"}},
      {"config", {"cnmctl-installer", "Edit system-probe.yaml (config enable)"}},
      {"selinux", {"cnmctl-selinux", "The probe's SELinux policy module: install|remove|status"}},
  };
  return m;
}

// The subcommand is the first argument that is neither a global option nor its value.
std::string subcommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--layout") {
      ++i;
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    return a;
  }
  return {};
}

// Where the siblings are: next to cnmctl in a build tree, in ../libexec/cnmkit when installed
// by the package (/usr/bin/cnmctl, /usr/libexec/cnmkit/cnmctl-installer).
std::filesystem::path sibling(const char* binary, char** argv) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto dir = ec ? std::filesystem::path(argv[0]).parent_path() : self.parent_path();
  const auto installed = dir / "../libexec/cnmkit" / binary;
  return ::access(installed.c_str(), X_OK) == 0 ? installed : dir / binary;
}

[[noreturn]] void exec_part(const char* binary, char** argv) {
  const auto path = sibling(binary, argv);
  ::execv(path.c_str(), argv);
  std::cerr << "cnmctl: cannot run " << path.string() << ": " << std::strerror(errno)
            << " (it is installed next to cnmctl, or in ../libexec/cnmkit)\n";
  std::exit(cnm::kExitUsage);
}

}  // namespace

int main(int argc, char** argv) {
  if (const auto it = delegated().find(subcommand(argc, argv)); it != delegated().end())
    exec_part(it->second.binary, argv);
  auto commands = cnm::cnmctl_own_commands();
  commands.push_back([](CLI::App& app, cnm::CliContext&) {
    // Listed in --help; never parsed here (exec'd above).
    for (const auto& [name, part] : delegated())
      app.add_subcommand(name, part.help)->allow_extras();
  });
  return cnm::run_cnmctl(argc, argv, commands);
}
