#include "probe/config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <limits>
#include <map>
#include <stdexcept>

#include "common/file_read.h"
#include "common/yaml_load.h"
#include "probe/bpf/dns_filter.h"  // how many ports the DNS programs take
#include "probe/dns_source.h"      // the sources network_config.dns_source names
#include "probe/ladder.h"          // the hook sets network_config.hook_set names

namespace cnm::probe {
namespace {

std::string where(const std::string& name, const YAML::Mark& m) {
  return name + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

template <typename T>
T scalar(const YAML::Node& v, const std::string& name, const std::string& key) {
  if (!v.IsScalar())
    throw std::runtime_error(where(name, v.Mark()) + ": " + key + " must be a scalar");
  try {
    return v.as<T>();
  } catch (const YAML::Exception&) {
    throw std::runtime_error(where(name, v.Mark()) + ": bad value '" + v.Scalar() + "' for " + key);
  }
}

std::uint32_t limit(const YAML::Node& v, const std::string& name, const std::string& key) {
  const auto n = scalar<std::int64_t>(v, name, key);
  if (n < 1 || n > (1 << 24))
    throw std::runtime_error(where(name, v.Mark()) + ": " + key + " must be in 1..16777216");
  return static_cast<std::uint32_t>(n);
}

using Setter = std::function<void(const YAML::Node&, const std::string&)>;

// Applies known keys of one mapping section; unknown ones become warnings.
void apply(const YAML::Node& section, const std::string& prefix,
           const std::map<std::string, Setter>& known, const std::string& name, ProbeConfig& c) {
  if (!section.IsMap())
    throw std::runtime_error(where(name, section.Mark()) + ": " + prefix + " must be a mapping");
  for (const auto& kv : section) {
    const auto key = kv.first.as<std::string>();
    auto it = known.find(key);
    if (it == known.end()) {
      c.warnings.push_back(where(name, kv.first.Mark()) + ": unknown key '" + prefix + key + "'");
      continue;
    }
    it->second(kv.second, prefix + key);
  }
}

}  // namespace

ProbeConfig parse_config(const std::string& yaml_text, const std::string& name,
                         const Layout& layout) {
  ProbeConfig c;
  c.socket_path = layout.at(layout.probe_socket).string();
  c.auth_token_path = layout.at(layout.auth_token_file).string();
  YAML::Node doc;
  try {
    doc = load_yaml(yaml_text);  // bounded: aliases counted expanded, depth limited
  } catch (const YamlBudgetError& e) {
    throw std::runtime_error(name + ":" + std::to_string(e.line()) + ":" +
                             std::to_string(e.column()) + ": " + e.what());
  } catch (const YAML::ParserException& e) {
    throw std::runtime_error(where(name, e.mark) + ": " + e.msg);
  }
  if (doc.IsNull()) return c;
  if (!doc.IsMap())
    throw std::runtime_error(where(name, doc.Mark()) + ": top level must be a mapping");

  const std::map<std::string, Setter> limits = {
      {"max_tracked_connections",
       [&](const YAML::Node& v, const std::string& k) {
         c.max_tracked_connections = limit(v, name, k);
       }},
      {"max_closed_connections_buffered",
       [&](const YAML::Node& v, const std::string& k) {
         c.max_closed_connections_buffered = limit(v, name, k);
       }},
      {"disable_ipv6", [&](const YAML::Node& v,
                           const std::string& k) { c.disable_ipv6 = scalar<bool>(v, name, k); }},
  };
  auto network = limits;
  network["enabled"] = [&](const YAML::Node& v, const std::string& k) {
    c.network_enabled = scalar<bool>(v, name, k);
  };
  network["per_call_hooks"] = [&](const YAML::Node& v, const std::string& k) {
    c.per_call_hooks = scalar<bool>(v, name, k);
  };
  network["hook_set"] = [&](const YAML::Node& v, const std::string& k) {
    c.hook_set = scalar<std::string>(v, name, k);
    if (c.hook_set != "auto" && !find_rung(c.hook_set))
      throw std::runtime_error(where(name, v.Mark()) + ": " + k + " must be auto or one of " +
                               rung_names() + ", not \"" + c.hook_set + "\"");
  };
  network["dns_monitoring"] = [&](const YAML::Node& v, const std::string& k) {
    c.dns_monitoring = scalar<bool>(v, name, k);
  };
  network["dns_source"] = [&](const YAML::Node& v, const std::string& k) {
    const auto text = scalar<std::string>(v, name, k);
    const auto source = parse_dns_source(text);
    if (!source)
      throw std::runtime_error(where(name, v.Mark()) + ": " + k + " must be one of " +
                               dns_source_choices() + ", not \"" + text + "\"");
    c.dns_source = *source;
  };
  // The one check of the ports' count (DnsMonitor takes them as they are).
  network["dns_ports"] = [&](const YAML::Node& v, const std::string& k) {
    if (!v.IsSequence() || v.size() < 1 || v.size() > CNM_DNS_MAX_PORTS)
      throw std::runtime_error(where(name, v.Mark()) + ": " + k + " must be a list of 1 to " +
                               std::to_string(CNM_DNS_MAX_PORTS) + " UDP ports");
    c.dns_ports.clear();
    for (const auto& e : v) {
      const auto port = scalar<std::int64_t>(e, name, k);
      if (port < 1 || port > 65535)
        throw std::runtime_error(where(name, e.Mark()) + ": " + k + ": " + std::to_string(port) +
                                 " is not a port (1..65535)");
      c.dns_ports.push_back(static_cast<std::uint16_t>(port));
    }
  };
  network["dns_timeout_ms"] = [&](const YAML::Node& v, const std::string& k) {
    c.dns_timeout_ms = limit(v, name, k);
  };
  network["max_dns_stats"] = [&](const YAML::Node& v, const std::string& k) {
    c.max_dns_stats = limit(v, name, k);
  };
  auto sysprobe = limits;
  sysprobe["sysprobe_socket"] = [&](const YAML::Node& v, const std::string& k) {
    c.socket_path = scalar<std::string>(v, name, k);
  };
  sysprobe["btf_path"] = [&](const YAML::Node& v, const std::string& k) {
    c.btf_path = scalar<std::string>(v, name, k);
    if (c.btf_path.empty() || c.btf_path.front() != '/')
      throw std::runtime_error(where(name, v.Mark()) + ": " + k + " must be an absolute path");
  };
  // Keys of system_probe_config the Agent has and this daemon does not need: no warning.
  for (const char* k : {"enabled", "log_level", "log_file", "debug_port"})
    sysprobe.emplace(k, [](const YAML::Node&, const std::string&) {});

  const std::map<std::string, Setter> top = {
      {"auth_token_file_path",
       [&](const YAML::Node& v, const std::string& k) {
         c.auth_token_path = scalar<std::string>(v, name, k);
       }},
      {"network_config",
       [&](const YAML::Node& v, const std::string&) {
         apply(v, "network_config.", network, name, c);
       }},
      {"system_probe_config",
       [&](const YAML::Node& v, const std::string&) {
         apply(v, "system_probe_config.", sysprobe, name, c);
       }},
  };
  apply(doc, "", top, name, c);
  if (c.socket_path.empty() || c.socket_path.front() != '/')
    throw std::runtime_error(name +
                             ": system_probe_config.sysprobe_socket must be an absolute path");
  if (c.socket_path.size() >= 108)
    throw std::runtime_error(
        name + ": system_probe_config.sysprobe_socket is longer than a unix socket path may be");
  return c;
}

ProbeConfig load_config(const std::filesystem::path& file, const Layout& layout) {
  // The one bounded reader: a FIFO or a device is refused, not read (no hang at start).
  const auto text = read_whole_file(file, kMaxConfigBytes, "config", true);
  if (!text) {
    auto c = parse_config("", file.string(), layout);
    c.warnings.push_back(file.string() + ": not found, using defaults");
    return c;
  }
  return parse_config(*text, file.string(), layout);
}

}  // namespace cnm::probe
