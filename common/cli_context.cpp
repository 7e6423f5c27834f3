#include "common/cli_context.h"

namespace cnm {

Layout CliContext::layout(const std::string& root, ProbeMode mode) const {
  const std::filesystem::path r =
      root.empty() ? std::filesystem::path("/") : std::filesystem::path(root);
  return layout_file.empty() ? default_layout(r, mode) : load_layout(layout_file, r, mode);
}

Layout CliContext::layout(const std::string& root, std::string_view probe,
                          ModeChoice& choice) const {
  const Layout agent = layout(root, ProbeMode::Agent);
  choice = choose_probe_mode(HostFs(agent.root), agent, probe);
  return choice.mode == ProbeMode::Agent ? agent : layout(root, choice.mode);
}

}  // namespace cnm
