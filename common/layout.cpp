#include "common/layout.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <stdexcept>
#include <system_error>

#include "common/file_read.h"
#include "common/host_fs.h"
#include "common/yaml_load.h"

namespace cnm {
namespace {

// cnmkit's own names: nothing here can collide with the Datadog Agent's package.
Layout standalone_defaults() {
  Layout l;
  l.mode = ProbeMode::Standalone;
  l.config_dir = "/etc/cnmkit";
  l.config_file = "/etc/cnmkit/system-probe.yaml";
  l.config_example = "";  // none on the host: the release's (or the compiled-in) example
  l.auth_token_file = "/etc/cnmkit/auth_token";
  l.probe_binary = "/opt/cnmkit/bin/cnm-probe";
  l.bpf_object_dir = "/opt/cnmkit/ebpf";
  l.run_dir = "/run/cnm-probe";  // the unit's RuntimeDirectory=
  l.probe_socket = "/run/cnm-probe/cnm-probe.sock";
  // Clients authenticate with the token; the socket's group is root unless an operator names
  // one (a standalone host has no dd-agent group).
  l.user = "root";
  l.group = "root";
  l.probe_service = "cnm-probe";
  l.agent_service = "";  // no Agent to restart
  return l;
}

using Fields = std::map<std::string, std::string*>;

Fields fields_of(Layout& l) {
  return {
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
}

[[noreturn]] void bad_key(const std::string& what, const YAML::Node& key, const std::string& why) {
  const auto mark = key.Mark();
  throw std::runtime_error(what + ":" + std::to_string(mark.line + 1) + ":" +
                           std::to_string(mark.column + 1) + ": " + why);
}

YAML::Node load_document(std::string_view text, const std::string& what) {
  YAML::Node doc;
  try {
    doc = load_yaml(text);
  } catch (const YamlBudgetError& e) {
    throw std::runtime_error(what + ":" + std::to_string(e.line()) + ":" +
                             std::to_string(e.column()) + ": " + e.what());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
  if (!doc.IsMap()) throw std::runtime_error(what + ": not a mapping");
  return doc;
}

// Applies one mapping's scalar keys; `section` names where they are, for the messages.
void apply_keys(const std::string& file, const YAML::Node& map, Fields& fields, bool in_section) {
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (!in_section &&
        (key == to_string(ProbeMode::Agent) || key == to_string(ProbeMode::Standalone)))
      continue;  // a mode's section, applied after
    auto it = fields.find(key);
    if (it == fields.end() || !kv.second.IsScalar())
      bad_key(file, kv.first, "unknown or non-scalar key '" + key + "'");
    if (in_section && key == "state_dir")
      bad_key(file, kv.first, "state_dir is shared by both modes: set it at the top level");
    *it->second = kv.second.as<std::string>();
  }
}

}  // namespace

const char* to_string(ProbeMode m) { return m == ProbeMode::Agent ? "agent" : "cnmkit"; }

ProbeMode parse_probe_mode(std::string_view s) {
  if (s == "agent") return ProbeMode::Agent;
  if (s == "cnmkit") return ProbeMode::Standalone;
  throw std::invalid_argument("--probe: agent or cnmkit, not '" + std::string(s) + "'");
}

std::filesystem::path Layout::at(std::string_view host_path) const {
  std::string_view rel = host_path;
  while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
  if (is_live()) return std::filesystem::path("/") / rel;
  return root / rel;
}

namespace {

// Whether the Agent under root is one the Datadog installer put in place (layout.h): its
// manifest there, the package's not (a removed package can leave /opt/datadog-agent behind with
// files it did not own, such as run/). A root that cannot be opened has none: the command using
// it says why.
bool installer_agent(const std::filesystem::path& root) {
  try {
    const HostFs fs(root);
    return !fs.exists(std::string(kPackageAgentDir) + "/version-manifest.json") &&
           fs.exists(std::string(kInstallerAgentDir) + "/version-manifest.json");
  } catch (const std::system_error&) {
    return false;
  }
}

// The agent layout's paths under `from` moved under `to`.
void move_agent_paths(Layout& l, std::string_view from, std::string_view to) {
  const std::string prefix = std::string(from) + "/";
  for (std::string* p :
       {&l.probe_binary, &l.bpf_object_dir, &l.run_dir, &l.probe_socket, &l.agent_version_manifest})
    if (p->starts_with(prefix)) *p = std::string(to) + "/" + p->substr(prefix.size());
}

}  // namespace

Layout with_other_agent_dir(Layout l) {
  const bool installer = l.probe_binary.starts_with(std::string(kInstallerAgentDir) + "/");
  move_agent_paths(l, installer ? kInstallerAgentDir : kPackageAgentDir,
                   installer ? kPackageAgentDir : kInstallerAgentDir);
  return l;
}

Layout default_layout(const std::filesystem::path& root, ProbeMode mode) {
  Layout l = mode == ProbeMode::Agent ? Layout{} : standalone_defaults();
  l.root = root.empty() ? std::filesystem::path("/") : root;
  if (mode == ProbeMode::Agent && installer_agent(l.root))
    move_agent_paths(l, kPackageAgentDir, kInstallerAgentDir);
  return l;
}

Layout parse_layout(std::string_view text, const std::string& what,
                    const std::filesystem::path& root, ProbeMode mode) {
  Layout l = default_layout(root, mode);
  Fields fields = fields_of(l);
  const YAML::Node doc = load_document(text, what);
  apply_keys(what, doc, fields, false);
  for (const ProbeMode m : {ProbeMode::Agent, ProbeMode::Standalone}) {
    const YAML::Node section = doc[to_string(m)];
    if (!section) continue;
    if (!section.IsMap())
      throw std::runtime_error(what + ": '" + to_string(m) + "' is not a mapping");
    if (m != mode) {
      Layout other = default_layout(root, m);  // still checked: a typo fails in either mode
      Fields other_fields = fields_of(other);
      apply_keys(what, section, other_fields, true);
      continue;
    }
    apply_keys(what, section, fields, true);
  }
  return l;
}

Layout load_layout(const std::filesystem::path& yaml_file, const std::filesystem::path& root,
                   ProbeMode mode) {
  // The one bounded reader (no FIFO, no device, at most 64 KiB), then a bounded load.
  const auto text = read_whole_file(yaml_file, kMaxLayoutFileBytes, "layout file");
  return parse_layout(*text, "layout file " + yaml_file.string(), root, mode);
}

std::string layout_overrides_yaml(const Layout& layout) {
  Layout wanted = layout;
  Layout defaults = default_layout(layout.root, layout.mode);
  const Fields mine = fields_of(wanted), theirs = fields_of(defaults);
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (layout.state_dir != defaults.state_dir)
    out << YAML::Key << "state_dir" << YAML::Value << layout.state_dir;
  bool section = false;
  for (const auto& [key, value] : mine) {
    if (key == "state_dir" || *value == *theirs.at(key)) continue;
    if (!section) out << YAML::Key << to_string(layout.mode) << YAML::Value << YAML::BeginMap;
    section = true;
    out << YAML::Key << key << YAML::Value << *value;
  }
  if (section) out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

bool same_fields(const Layout& a, const Layout& b) {
  Layout x = a, y = b;
  const Fields fx = fields_of(x), fy = fields_of(y);
  for (const auto& [key, value] : fx)
    if (*value != *fy.at(key)) return false;
  return true;
}

std::string probe_layout_file(const Layout& layout) {
  return layout.config_dir + "/installed-layout.yaml";
}

}  // namespace cnm
