#include "common/host_layout.h"

#include <stdexcept>

#include "common/root_dir.h"

namespace cnm {
namespace {

// The recorded fields on one line: "cnmkit: config_dir: /etc/netmon, run_dir: /run/netmon".
std::string one_line(std::string yaml) {
  while (!yaml.empty() && yaml.back() == '\n') yaml.pop_back();
  for (auto p = yaml.find('\n'); p != std::string::npos; p = yaml.find('\n', p)) {
    const auto end = yaml.find_first_not_of(' ', p + 1);
    yaml.replace(p, (end == std::string::npos ? yaml.size() : end) - p, ", ");
  }
  for (auto p = yaml.find(":, "); p != std::string::npos; p = yaml.find(":, ", p))
    yaml.replace(p, 3, ": ");  // a section's name, then its first field
  return yaml == "{}" ? "the defaults" : yaml;
}

// Why a command is refused: whose layout differs, what the install recorded, what to pass.
std::string refusal(const CliContext& ctx, const Layout& given, const HostRecord& host,
                    const Layout& recorded) {
  std::string pass = "run with the same --layout";
  // Named only where it is: an install by an older cnmctl may have written none.
  if (recorded.mode == ProbeMode::Standalone &&
      RootDir(recorded.root).exists(probe_layout_file(recorded)))
    pass +=
        " (the install's copy: --layout " + recorded.at(probe_layout_file(recorded)).string() + ")";
  return std::string(ctx.layout_file.empty() ? "without --layout, this command"
                                             : "--layout " + ctx.layout_file) +
         " would act on other paths than the " + to_string(recorded.mode) +
         " install on this host, which " + state_file(given) + " records with " +
         one_line(host.layout) + ": " + pass +
         ", or uninstall with it before installing with another layout; nothing was changed";
}

}  // namespace

HostRecord host_record(const Layout& layout) {
  const auto state = read_state_json(layout);
  return state ? host_record_from_state(*state, layout) : HostRecord{};
}

void check_host_layout(const CliContext& ctx, const Layout& given, const HostRecord& host) {
  if (!host.mode || *host.mode != given.mode || host.layout.empty()) return;
  // Field by field: the record is compared as what it means, not as the text some version of
  // cnmctl wrote.
  const Layout recorded = parse_layout(host.layout, "the recorded layout", given.root, given.mode);
  if (!same_fields(recorded, given))
    throw std::invalid_argument(refusal(ctx, given, host, recorded));
}

std::string check_recorded_layout(const CliContext& ctx, const std::vector<Layout>& given) {
  // A record that cannot be read or parsed is a runtime_error; a refusal is an
  // invalid_argument, which goes on to the caller.
  try {
    const HostRecord host = host_record(given.front());
    for (const auto& g : given) check_host_layout(ctx, g, host);
  } catch (const std::runtime_error& e) {
    return std::string("the install's record was not read (") + e.what() +
           "): its layout was not compared with this one";
  }
  return {};
}

}  // namespace cnm
