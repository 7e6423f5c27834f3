#include "probe/config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "common/agent_keys.h"
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

// A count in 1..max.
std::uint32_t limit(const YAML::Node& v, const std::string& name, const std::string& key,
                    std::uint32_t max = 1U << 24) {
  const auto n = scalar<std::int64_t>(v, name, key);
  if (n < 1 || n > max)
    throw std::runtime_error(where(name, v.Mark()) + ": " + key + " must be in 1.." +
                             std::to_string(max));
  return static_cast<std::uint32_t>(n);
}

using Setter = std::function<void(const YAML::Node&, const std::string&)>;

// Reads keys as the Datadog Agent does, so one file means the same to both: a key is case
// insensitive (viper lowercases every key) and may be dotted ("network_config.enabled: true"
// is network_config: {enabled: true}). Every known key is declared once, by its full dotted
// path; a mapping is entered where a known key lies below it. Two spellings of one key that
// disagree are refused (the Agent reads only one of them, which one depends on its reader).
class KeyReader {
 public:
  KeyReader(const std::map<std::string, Setter>& known, const std::string& name)
      : known_(known), name_(name) {
    for (const auto& [path, setter] : known)
      for (auto dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1))
        sections_.insert(path.substr(0, dot));
  }

  void read(const YAML::Node& map, const std::string& prefix, ProbeConfig& c) {
    for (const auto& kv : map) {
      const auto written = prefix + agent_key(kv.first.as<std::string>());
      auto path = written;
      if (const auto moved = agent_spelling(written)) {
        // Read as the key the Agent reads, so the two spellings must agree like any two.
        c.warnings.push_back(where(name_, kv.first.Mark()) + ": " + written +
                             ": the Datadog Agent reads this key only as " + std::string(*moved) +
                             " (read as that here; write it there)");
        path = *moved;
      }
      if (sections_.contains(path)) {
        section(kv.second, path, c);
      } else if (const auto it = known_.find(path); it != known_.end()) {
        if (first_spelling(path, kv)) it->second(kv.second, written);
      } else {
        c.warnings.push_back(where(name_, kv.first.Mark()) + ": unknown key '" + path + "'");
      }
    }
  }

 private:
  void section(const YAML::Node& v, const std::string& path, ProbeConfig& c) {
    if (v.IsNull()) return;  // "network_config:" alone sets nothing, as for the Agent
    if (!v.IsMap())
      throw std::runtime_error(where(name_, v.Mark()) + ": " + path + " must be a mapping");
    read(v, path + ".", c);
  }

  // True the first time a key is spelled; a later spelling must say the same.
  bool first_spelling(const std::string& path, const std::pair<YAML::Node, YAML::Node>& kv) {
    const auto [seen, fresh] = seen_.try_emplace(path, kv.second);
    if (fresh) return true;
    if (!(seen->second.IsScalar() && kv.second.IsScalar() &&
          seen->second.Scalar() == kv.second.Scalar()))
      throw std::runtime_error(
          where(name_, kv.first.Mark()) + ": " + path + " is set again, differently (first at " +
          where(name_, seen->second.Mark()) + "): the Agent would read only one of them");
    return false;
  }

  const std::map<std::string, Setter>& known_;
  const std::string& name_;
  std::set<std::string> sections_;
  std::map<std::string, YAML::Node> seen_;
};

// cnm-probe's DNS monitoring is its own opt-in (network_config.dns_monitoring: it costs every
// UDP datagram a program run); the Agent's system-probe collects DNS unless
// system_probe_config.collect_dns_stats is false. A file that turns the Agent's off turns
// cnm-probe's off too, so one fleet setting means "no DNS" in both modes; the Agent's switch
// alone does not turn cnm-probe's on, and a file that seems to ask it to is warned about.
void dns_switches(ProbeConfig& c, std::optional<bool> collect_dns_stats, const std::string& name) {
  if (!collect_dns_stats) return;
  if (!*collect_dns_stats && c.dns_monitoring) {
    c.dns_monitoring = false;
    c.warnings.push_back(name +
                         ": DNS monitoring off: system_probe_config.collect_dns_stats is false "
                         "(it overrides network_config.dns_monitoring)");
  } else if (*collect_dns_stats && !c.dns_monitoring) {
    c.warnings.push_back(name +
                         ": DNS monitoring off: system_probe_config.collect_dns_stats turns on "
                         "the Agent's; cnm-probe's is network_config.dns_monitoring");
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

  // Every key this daemon reads, by its full path (probe/README.md lists them).
  std::map<std::string, Setter> known;
  // Where the Agent reads them (their network_config spelling is read as these: KeyReader).
  known["system_probe_config.max_tracked_connections"] = [&](const YAML::Node& v,
                                                             const std::string& k) {
    c.max_tracked_connections = limit(v, name, k);
  };
  known["system_probe_config.max_closed_connections_buffered"] = [&](const YAML::Node& v,
                                                                     const std::string& k) {
    c.max_closed_connections_buffered = limit(v, name, k);
  };
  known["system_probe_config.disable_ipv6"] = [&](const YAML::Node& v, const std::string& k) {
    c.disable_ipv6 = scalar<bool>(v, name, k);
  };
  // The Agent's DNS switch (default true there); see dns_switches.
  std::optional<bool> collect_dns_stats;
  known["system_probe_config.collect_dns_stats"] = [&](const YAML::Node& v, const std::string& k) {
    collect_dns_stats = scalar<bool>(v, name, k);
  };
  known["network_config.enabled"] = [&](const YAML::Node& v, const std::string& k) {
    c.network_enabled = scalar<bool>(v, name, k);
  };
  known["network_config.max_clients"] = [&](const YAML::Node& v, const std::string& k) {
    // Bounded lower than the other limits: each client may hold 56 bytes per open connection.
    c.max_clients = limit(v, name, k, kMaxClientsLimit);
  };
  known["network_config.per_call_hooks"] = [&](const YAML::Node& v, const std::string& k) {
    c.per_call_hooks = scalar<bool>(v, name, k);
  };
  known["network_config.hook_set"] = [&](const YAML::Node& v, const std::string& k) {
    c.hook_set = scalar<std::string>(v, name, k);
    if (c.hook_set != "auto" && !find_rung(c.hook_set))
      throw std::runtime_error(where(name, v.Mark()) + ": " + k + " must be auto or one of " +
                               rung_names() + ", not \"" + c.hook_set + "\"");
  };
  known["network_config.dns_monitoring"] = [&](const YAML::Node& v, const std::string& k) {
    c.dns_monitoring = scalar<bool>(v, name, k);
  };
  known["network_config.dns_source"] = [&](const YAML::Node& v, const std::string& k) {
    const auto text = scalar<std::string>(v, name, k);
    const auto source = parse_dns_source(text);
    if (!source)
      throw std::runtime_error(where(name, v.Mark()) + ": " + k + " must be one of " +
                               dns_source_choices() + ", not \"" + text + "\"");
    c.dns_source = *source;
  };
  // The one check of the ports' count (DnsMonitor takes them as they are).
  known["network_config.dns_ports"] = [&](const YAML::Node& v, const std::string& k) {
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
  known["network_config.dns_timeout_ms"] = [&](const YAML::Node& v, const std::string& k) {
    c.dns_timeout_ms = limit(v, name, k);
  };
  known["network_config.max_dns_stats"] = [&](const YAML::Node& v, const std::string& k) {
    c.max_dns_stats = limit(v, name, k);
  };
  known["system_probe_config.sysprobe_socket"] = [&](const YAML::Node& v, const std::string& k) {
    c.socket_path = scalar<std::string>(v, name, k);
  };
  known["system_probe_config.btf_path"] = [&](const YAML::Node& v, const std::string& k) {
    c.btf_path = scalar<std::string>(v, name, k);
    if (c.btf_path.empty() || c.btf_path.front() != '/')
      throw std::runtime_error(where(name, v.Mark()) + ": " + k + " must be an absolute path");
  };
  // Keys of system_probe_config the Agent has and this daemon does not need: no warning.
  for (const char* k : {"enabled", "log_level", "log_file", "debug_port"})
    known[std::string("system_probe_config.") + k] = [](const YAML::Node&, const std::string&) {};
  known["auth_token_file_path"] = [&](const YAML::Node& v, const std::string& k) {
    c.auth_token_path = scalar<std::string>(v, name, k);
  };
  KeyReader(known, name).read(doc, "", c);
  dns_switches(c, collect_dns_stats, name);
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
