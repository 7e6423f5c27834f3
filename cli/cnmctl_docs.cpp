// cnmctl-docs OUT_DIR: the man pages (OUT_DIR/man1, OUT_DIR/man8) and the bash completion
// (OUT_DIR/bash-completion/cnmctl) of cnmctl and cnm-probe, rendered from the registrars the
// binaries themselves parse with, so the documentation shipped in the packages is their --help.
// A build tool: run by the packaging rules, never installed.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cnmctl_app.h"
#include "cli/cnmctl_commands.h"
#include "common/cli_docs.h"
#include "installer/installer_cli.h"
#include "probe/cli_options.h"
#include "selinux/selinux_cli.h"

namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + p.string());
}

void write_pages(const std::filesystem::path& dir, const std::vector<cnm::ManPage>& pages) {
  for (const auto& page : pages) write(dir / page.file_name, page.text);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cnmctl-docs OUT_DIR\n";
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const std::string version = std::string("cnmkit ") + CNM_VERSION;
  try {
    cnm::CliContext ctx;
    CLI::App cnmctl{cnm::kCnmctlDescription, "cnmctl"};
    cnm::define_global_options(cnmctl, ctx);
    for (const auto& add : cnm::cnmctl_own_commands()) add(cnmctl, ctx);
    cnm::add_installer_commands(cnmctl, ctx);
    cnm::add_selinux_commands(cnmctl, ctx);
    write_pages(out / "man1", cnm::man_pages(cnmctl, {"cnmctl", 1, version, cnm::kExitStatusText}));
    write(out / "bash-completion" / "cnmctl", cnm::bash_completion(cnmctl, "cnmctl"));

    CLI::App probe{cnm::probe::kCliDescription, "cnm-probe"};
    cnm::probe::CliOptions probe_options;
    cnm::probe::define_cli(probe, probe_options);
    write_pages(out / "man8",
                cnm::man_pages(probe, {"cnm-probe", 8, version,
                                       "0: stopped by SIGTERM or SIGINT after detaching every "
                                       "program. 1: could not start or serve. 2: usage or a "
                                       "configuration error."}));
  } catch (const std::exception& e) {
    std::cerr << "cnmctl-docs: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
