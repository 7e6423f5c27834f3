#include "probe/cli_options.h"

namespace cnm::probe {

void define_cli(CLI::App& app, CliOptions& o) {
  app.set_version_flag("--version", std::string("cnm-probe ") + CNM_VERSION);
  app.add_option("--config", o.config, "system-probe.yaml (default: the layout's config_file)");
  app.add_option("--layout", o.layout_file, "YAML file overriding default paths")
      ->envname("CNMKIT_LAYOUT")
      ->check(CLI::ExistingFile);
  app.add_flag("-v,--verbose", o.verbosity, "More logging (-vv debug)");
  app.add_flag_callback(
      "-q,--quiet", [&o] { o.verbosity = 0; }, "Warnings and errors only");
}

}  // namespace cnm::probe
