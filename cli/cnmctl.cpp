// cnmctl: one binary for the whole rollout. Each part registers its own subcommands; this file
// only sets up global options, logging and the exit code contract (0 ok, 1 not fit/failed,
// 2 usage or internal error).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "checks/preflight_cli.h"
#include "installer/installer_cli.h"
#include "common/cli_context.h"
#include "common/logging.h"
#include "selinux/selinux_cli.h"

int main(int argc, char** argv) {
  cnm::CliContext ctx;
  CLI::App app{"cnmkit: get Linux hosts ready for eBPF network monitoring", "cnmctl"};
  app.set_version_flag("--version", std::string("cnmctl ") + CNM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_flag("-v,--verbose", ctx.verbosity, "More logging on stderr (-v info, -vv debug)");
  app.add_option("--layout", ctx.layout_file,
                 "YAML file overriding default paths, user and service names")
      ->envname("CNMKIT_LAYOUT")
      ->check(CLI::ExistingFile);
  app.parse_complete_callback([&ctx] { cnm::setup_logging(ctx.verbosity); });

  cnm::add_preflight_command(app, ctx);
  cnm::add_installer_commands(app, ctx);
  cnm::add_selinux_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : cnm::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "cnmctl: " << e.what() << "\n";
    return cnm::kExitUsage;
  }
  return ctx.exit_code;
}
