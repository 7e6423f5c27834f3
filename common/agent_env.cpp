#include "common/agent_env.h"

#include <array>
#include <optional>

#include "common/agent_keys.h"

namespace cnm {
namespace {

struct Bound {
  std::string_view variable, key;
  bool enables;
};

// The variables bound to the keys cnmctl config enable sets (both enable keys) and to the
// socket its health check asks.
constexpr std::array<Bound, 3> kBound{{
    {"DD_SYSTEM_PROBE_NETWORK_ENABLED", kNetworkEnableKey, true},
    {"DD_SYSTEM_PROBE_ENABLED", kSystemProbeEnableKey, true},
    {"DD_SYSPROBE_SOCKET", kSysprobeSocketKey, false},
}};

std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

// Go's strconv.ParseBool, true side.
bool parses_true(std::string_view v) {
  return v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True";
}

// Whether the Agent's system-probe runs with the environment file: its unit names it, and
// (on the live host) systemd runs the units.
bool units_read_env_file(const HostFs& fs, const Layout& layout) {
  if (fs.is_live() && !fs.exists("/run/systemd/system")) return false;
  const std::string unit = layout.probe_service + ".service";
  for (const char* dir :
       {"/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/"})
    if (const auto t = fs.read(dir + unit, 64 * 1024))
      if (t->text.find("EnvironmentFile=-" + agent_env_file(layout)) != std::string::npos ||
          t->text.find("EnvironmentFile=" + agent_env_file(layout)) != std::string::npos)
        return true;
  return false;
}

// The file's lines, a line ending in a backslash joined with the next (systemd's rule).
std::vector<std::string> logical_lines(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\\') {
      cur.append(line.substr(0, line.size() - 1));
      continue;
    }
    out.push_back(cur + std::string(line));
    cur.clear();
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// The override a KEY=VALUE line sets, if its variable is one of kBound and its value not empty.
std::optional<EnvOverride> override_of(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() == '#' || line.front() == ';') return std::nullopt;
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const auto name = trim(line.substr(0, eq));
  const auto value = unquote(trim(line.substr(eq + 1)));
  for (const auto& b : kBound)
    if (name == b.variable && !value.empty())
      return EnvOverride{std::string(name), std::string(value), std::string(b.key),
                         b.enables && !parses_true(value)};
  return std::nullopt;
}

}  // namespace

std::string agent_env_file(const Layout& layout) { return layout.config_dir + "/environment"; }

std::vector<EnvOverride> agent_env_overrides(const HostFs& fs, const Layout& layout) {
  std::vector<EnvOverride> out;
  if (!units_read_env_file(fs, layout)) return out;
  const auto text = fs.read(agent_env_file(layout), 64 * 1024);
  if (!text) return out;
  for (const auto& line : logical_lines(text->text)) {
    auto o = override_of(line);
    if (!o) continue;
    std::erase_if(out, [&](const EnvOverride& e) { return e.variable == o->variable; });
    out.push_back(std::move(*o));  // the last line of a variable wins
  }
  return out;
}

std::string describe_overrides(const std::vector<EnvOverride>& o, const Layout& layout) {
  std::string s;
  for (const auto& e : o)
    s += (s.empty() ? "" : "; ") + e.variable + "=" + e.value + " in " + agent_env_file(layout) +
         " overrides " + e.key;
  return s;
}

}  // namespace cnm
