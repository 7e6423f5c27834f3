#include "common/layout.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <stdexcept>

#include "common/file_read.h"
#include "common/yaml_load.h"

namespace cnm {

std::filesystem::path Layout::at(std::string_view host_path) const {
  std::string_view rel = host_path;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  if (is_live()) return std::filesystem::path("/") / rel;
  return root / rel;
}

Layout default_layout(const std::filesystem::path& root) {
  Layout l;
  l.root = root.empty() ? std::filesystem::path("/") : root;
  return l;
}

Layout load_layout(const std::filesystem::path& yaml_file, const std::filesystem::path& root) {
  Layout l = default_layout(root);
  std::map<std::string, std::string*> fields = {
      {"config_dir", &l.config_dir},
      {"config_file", &l.config_file},
      {"config_example", &l.config_example},
      {"auth_token_file", &l.auth_token_file},
      {"probe_binary", &l.probe_binary},
      {"bpf_object_dir", &l.bpf_object_dir},
      {"run_dir", &l.run_dir},
      {"probe_socket", &l.probe_socket},
      {"agent_version_manifest", &l.agent_version_manifest},
      {"systemd_unit_dir", &l.systemd_unit_dir},
      {"sysv_init_dir", &l.sysv_init_dir},
      {"state_dir", &l.state_dir},
      {"cache_dir", &l.cache_dir},
      {"user", &l.user},
      {"group", &l.group},
      {"probe_service", &l.probe_service},
      {"agent_service", &l.agent_service},
      {"selinux_module", &l.selinux_module},
      {"selinux_type", &l.selinux_type},
  };
  YAML::Node doc;
  try {
    // The one bounded reader (no FIFO, no device, at most 64 KiB), then a bounded load.
    const auto text = read_whole_file(yaml_file, kMaxLayoutFileBytes, "layout file");
    doc = load_yaml(*text);
  } catch (const FileReadError&) {
    throw;
  } catch (const YamlBudgetError& e) {
    throw std::runtime_error("layout file " + yaml_file.string() + ":" + std::to_string(e.line()) +
                             ":" + std::to_string(e.column()) + ": " + e.what());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("layout file " + yaml_file.string() + ": " + e.what());
  }
  if (!doc.IsMap())
    throw std::runtime_error("layout file " + yaml_file.string() + ": not a mapping");
  for (const auto& kv : doc) {
    const auto key = kv.first.as<std::string>();
    auto it = fields.find(key);
    if (it == fields.end() || !kv.second.IsScalar()) {
      const auto mark = kv.first.Mark();
      throw std::runtime_error(
          "layout file " + yaml_file.string() + ":" + std::to_string(mark.line + 1) + ":" +
          std::to_string(mark.column + 1) + ": unknown or non-scalar key '" + key + "'");
    }
    *it->second = kv.second.as<std::string>();
  }
  return l;
}

}  // namespace cnm
