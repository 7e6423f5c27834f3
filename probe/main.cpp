// cnm-probe: the eBPF probe daemon. Foreground, systemd-friendly (see probe/README.md).
#include <spdlog/spdlog.h>

#include "common/layout.h"
#include "common/logging.h"
#include "common/nss_files.h"
#include "probe/cli_options.h"
#include "probe/daemon.h"

int main(int argc, char** argv) {
  cnm::use_files_name_services();
  CLI::App app{cnm::probe::kCliDescription, "cnm-probe"};
  cnm::probe::CliOptions cli;
  cnm::probe::define_cli(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  cnm::setup_logging(cli.verbosity);
  cnm::probe::DaemonOptions o;
  try {
    o.layout =
        cli.layout_file.empty() ? cnm::default_layout("/") : cnm::load_layout(cli.layout_file, "/");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  o.config_file =
      cli.config.empty() ? o.layout.at(o.layout.config_file) : std::filesystem::path(cli.config);
  return cnm::probe::run_daemon(o);
}
