// cnm-probe: the eBPF probe daemon. Foreground, systemd-friendly (see probe/README.md).
#include <CLI/CLI.hpp>

#include "common/layout.h"
#include "common/logging.h"
#include "probe/daemon.h"

#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
  CLI::App app{"cnm-probe: TCP connections collected with eBPF, served over a unix socket",
               "cnm-probe"};
  app.set_version_flag("--version", std::string("cnm-probe ") + CNM_VERSION);
  std::string config;
  std::string layout_file;
  int verbosity = 1;
  app.add_option("--config", config, "system-probe.yaml (default: the layout's config_file)");
  app.add_option("--layout", layout_file, "YAML file overriding default paths")
      ->envname("CNMKIT_LAYOUT")
      ->check(CLI::ExistingFile);
  app.add_flag("-v,--verbose", verbosity, "More logging (-vv debug)");
  app.add_flag_callback(
      "-q,--quiet", [&verbosity] { verbosity = 0; }, "Warnings and errors only");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  cnm::setup_logging(verbosity);
  cnm::probe::DaemonOptions o;
  try {
    o.layout = layout_file.empty() ? cnm::default_layout("/") : cnm::load_layout(layout_file, "/");
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  o.config_file =
      config.empty() ? o.layout.at(o.layout.config_file) : std::filesystem::path(config);
  return cnm::probe::run_daemon(o);
}
