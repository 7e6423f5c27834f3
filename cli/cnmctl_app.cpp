#include "cli/cnmctl_app.h"

#include <exception>
#include <iostream>
#include <string>

#include "common/logging.h"
#include "common/nss_files.h"
#include "common/printable.h"

namespace cnm {

void define_global_options(CLI::App& app, CliContext& ctx) {
  app.set_version_flag("--version", std::string("cnmctl ") + CNM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_flag("-v,--verbose", ctx.verbosity, "More logging on stderr (-v info, -vv debug)");
  app.add_option("--layout", ctx.layout_file,
                 "YAML file overriding default paths, user and service names")
      ->envname("CNMKIT_LAYOUT")
      ->check(CLI::ExistingFile);
  app.parse_complete_callback([&ctx] { setup_logging(ctx.verbosity); });
}

int run_cnmctl(int argc, char** argv, const std::vector<CommandRegistrar>& parts) {
  use_files_name_services();
  CliContext ctx;
  CLI::App app{kCnmctlDescription, "cnmctl"};
  define_global_options(app, ctx);
  for (const auto& add : parts) add(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 checks require_subcommand before it reports extras: "cnmctl bogus" would only say
    // a subcommand is required. Name the word it did not know instead.
    const auto rest = app.remaining();
    if (dynamic_cast<const CLI::RequiredError*>(&e) && app.get_subcommands().empty() &&
        !rest.empty()) {
      std::string names;
      for (const auto* sub :
           app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); }))
        names += (names.empty() ? "" : ", ") + sub->get_name();
      std::cerr << "cnmctl: unknown " << (rest.front().rfind('-', 0) == 0 ? "option" : "subcommand")
                << " '" << printable(rest.front(), false) << "'; the subcommands are: " << names
                << "\nRun with --help for more information.\n";
      return kExitUsage;
    }
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "cnmctl: " << printable(e.what()) << "\n";
    return kExitUsage;
  }
  return ctx.exit_code;
}

}  // namespace cnm
