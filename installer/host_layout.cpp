#include "installer/host_layout.h"

#include <stdexcept>

#include "common/root_dir.h"
#include "installer/install_state.h"

namespace cnm {
namespace {

// The recorded fields on one line: "config_dir: /etc/netmon, run_dir: /run/netmon".
std::string one_line(std::string yaml) {
  while (!yaml.empty() && yaml.back() == '\n') yaml.pop_back();
  for (auto p = yaml.find('\n'); p != std::string::npos; p = yaml.find('\n', p))
    yaml.replace(p, 1, ", ");
  return yaml == "{}" ? "the defaults" : yaml;
}

}  // namespace

Layout host_layout(const CliContext& ctx, const std::string& root, ProbeMode mode) {
  Layout given = ctx.layout(root, mode);
  if (!RootDir(given.root).exists(given.state_dir)) return given;
  const HostRecord host = InstallState(given).host();
  if (!host.mode || *host.mode != mode || host.layout.empty()) return given;
  if (host.layout == layout_overrides_yaml(given)) return given;
  const Layout recorded = parse_layout(host.layout, "the recorded layout", given.root, mode);
  std::string pass = "run with the same --layout";
  if (mode == ProbeMode::Standalone)
    pass +=
        " (the install's copy: --layout " + recorded.at(probe_layout_file(recorded)).string() + ")";
  throw std::invalid_argument(
      std::string(ctx.layout_file.empty() ? "without --layout, this command"
                                          : "--layout " + ctx.layout_file) +
      " would act on other paths than the " + to_string(mode) + " install on this host, which " +
      given.state_dir + "/state.json records with " + one_line(host.layout) + ": " + pass +
      ", or uninstall with it before installing with another layout; nothing was changed");
}

}  // namespace cnm
