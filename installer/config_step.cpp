#include "installer/config_step.h"

#include <algorithm>
#include <stdexcept>

#include "common/agent_env.h"
#include "common/agent_keys.h"
#include "common/host_accounts.h"
#include "installer/agent_version.h"
#include "installer/installer_assets.h"
#include "installer/yaml_edit.h"

namespace cnm {

std::pair<std::string, std::string> parse_set(const std::string& kv) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
    throw std::invalid_argument(
        "--set wants KEY=VALUE (e.g. network_config.enable_tcp_failed_connections=true), got '" +
        kv + "'");
  const auto key = kv.substr(0, eq);
  split_key_path(key);  // validates
  // The enable key is what `config enable` sets: a --set of it would be overwritten (=true) or
  // would leave the feature off while the run reports success (=false). The Agent reads keys
  // case-insensitively.
  const auto as_agent_reads = agent_key(key);
  for (const char* enable : kEnableKeys)
    if (as_agent_reads == enable)
      throw std::invalid_argument("--set " + key + " is refused: " + enable +
                                  " is what cnmctl sets to enable network monitoring (use "
                                  "`cnmctl uninstall` to undo it)");
  // A key the Agent reads in another section is written where it reads it (plan_config also
  // sets the old spelling where the file holds it, so the two agree for cnm-probe).
  const auto moved = agent_spelling(key);
  const std::string written = moved ? std::string(*moved) : key;
  const auto value = kv.substr(eq + 1);
  try {
    yaml_scalar_text(value);  // a list or a mapping is a usage error, before anything is read
  } catch (const YamlEditError& e) {
    throw std::invalid_argument("--set " + key + ": " + e.what());
  }
  return {written, value};
}

namespace {

// Beside the Agent, what overrides the system-probe.yaml keys cnmctl sets (common/agent_env.h:
// its environment file's variables, its Fleet Automation policy), read once per plan. One that
// turns off an enable key written here leaves network monitoring off, on this Agent or after
// its upgrade, whatever is written, while its system-probe still answers the health check:
// refused before anything is written. The others are named in the action's reason ("" when
// none).
std::string check_agent_environment(const Layout& layout, const std::optional<Version>& agent) {
  if (layout.mode != ProbeMode::Agent) return "";
  const auto overrides = agent_overrides(HostFs(layout.root), layout);
  const auto written = enable_keys(agent);
  for (const auto& o : overrides)
    if (o.disables && std::find(written.begin(), written.end(), o.key) != written.end())
      throw std::runtime_error(describe_overrides({o}, layout) +
                               ": network monitoring would stay off whatever cnmctl writes; "
                               "remove it from " +
                               o.source + " (or set it true) and run again; nothing was changed");
  if (overrides.empty()) return "";
  return "; " + describe_overrides(overrides, layout) +
         ": the Agent reads that, not system-probe.yaml";
}

// The spellings cnm-probe once documented for a key the Agent reads elsewhere
// (common/agent_keys.h), set to the same value where cnm-probe's file holds them: it reads both
// and refuses two that differ (the Agent ignores them: its file is left as the operator wrote
// it).
std::string set_old_spellings(const std::string& text, const std::string& key,
                              const std::string& value) {
  std::string out = text;
  for (const auto& m : kMovedKeys)
    if (agent_key(key) == m.agent_reads)
      out = yaml_set(out, split_key_path(m.written), value, /*add_when_absent=*/false);
  return out;
}

}  // namespace

FileAction plan_config(const Layout& layout, const ConfigRequest& req) {
  const std::string environment = check_agent_environment(layout, req.agent_version);
  FileAction a = current_file(layout, layout.config_file);
  const RootDir root(layout.root);
  std::string text, from = root.display(layout.config_file).string();
  if (a.before) {
    text = *a.before;
    a.mode = a.before_mode;  // the operator's mode stays
    a.reason = "edit";
    a.edits_in_place = true;
  } else {
    a.mode = 0640;
    a.owner = req.owner ? *req.owner : config_owner(layout);
    if (req.example) {
      text = *req.example;
      from = "the release's example";
    } else if (auto host_example = layout.config_example.empty()
                                       ? std::nullopt
                                       : read_whole(root, layout.config_example)) {
      text = *host_example;
      from = root.display(layout.config_example).string();
    } else {
      text = std::string(assets::kExampleConfig);
      from = "the built-in example";
    }
    a.reason = "create from " + from;
  }
  std::vector<std::pair<std::string, std::string>> sets;
  for (auto& key : enable_keys(req.agent_version)) sets.emplace_back(std::move(key), "true");
  sets.insert(sets.end(), req.sets.begin(), req.sets.end());
  std::string keys;
  for (const auto& [key, given] : sets) {
    std::string value;
    try {
      value = yaml_scalar_text(given);  // quoted when it would not read back as itself
      text = yaml_set(text, split_key_path(key), value);
      if (layout.mode == ProbeMode::Standalone) text = set_old_spellings(text, key, value);
    } catch (const YamlEditError& e) {
      throw std::runtime_error(from + (e.line() > 0 ? ":" : ": ") + e.what() + " (setting " + key +
                               "); nothing was changed");
    }
    keys += (keys.empty() ? "" : ", ") + key + "=" + value;
  }
  a.after = std::move(text);
  a.reason += ", set " + keys + environment;
  return a;
}

}  // namespace cnm
