#include "common/agent_env.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>

#include "common/agent_keys.h"
#include "common/unit_environment.h"
#include "common/yaml_load.h"

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

// The unit directories in systemd's order of precedence: the first holding the unit is its file.
constexpr std::array<const char*, 5> kUnitDirs{"/etc/systemd/system", "/run/systemd/system",
                                               "/usr/local/lib/systemd/system",
                                               "/lib/systemd/system", "/usr/lib/systemd/system"};

// Whether a line of a unit file or an environment file goes on with the next (systemd's
// config_parse and load_env_file): it ends in a backslash that no backslash before it escapes
// (an odd run of them).
bool continues(std::string_view line) {
  const auto last = line.find_last_not_of('\\');
  const std::size_t run = line.size() - (last == std::string_view::npos ? 0 : last + 1);
  return run % 2 == 1;
}

// Calls fn(value) for each `name=` setting of a unit file's [Service] section, as systemd 243
// and later reads a unit (src/shared/conf-parser.c, config_parse): comment lines are dropped
// first, even inside a continued line; a line ending in an unescaped backslash goes on with the
// next, the backslash read as a blank; a blank line ends a continued one; blanks around '='.
template <typename Fn>
void for_each_service_setting(std::string_view text, std::string_view name, Fn&& fn) {
  bool service = false;
  const auto setting = [&](std::string_view line) {
    const auto t = trim(line);
    if (t.empty()) return;
    if (t.front() == '[') {
      service = t == "[Service]";
      return;
    }
    const auto eq = t.find('=');
    if (service && eq != std::string_view::npos && trim(t.substr(0, eq)) == name)
      fn(trim(t.substr(eq + 1)));
  };
  std::string joined;
  bool continued = false;
  for_each_line(text, [&](std::string_view raw) {
    const auto t = trim(raw);
    if (!t.empty() && (t.front() == '#' || t.front() == ';')) return;
    std::string line = continued ? std::move(joined) + std::string(raw) : std::string(raw);
    joined.clear();
    continued = !t.empty() && continues(line);
    if (continued) {
      line.back() = ' ';
      joined = std::move(line);
      return;
    }
    setting(line);
  });
  if (continued) setting(joined);
}

// Whether a unit file's text, read after `on` (what earlier files said), leaves `path` among
// its EnvironmentFile= settings: `EnvironmentFile=[-]PATH` adds it, an empty one clears the
// list (systemd.exec).
bool names_env_file(std::string_view text, const std::string& path, bool on) {
  for_each_service_setting(text, "EnvironmentFile", [&](std::string_view value) {
    if (value.empty()) {
      on = false;
      return;
    }
    if (value.front() == '-') value.remove_prefix(1);
    if (value == path) on = true;
  });
  return on;
}

// Calls fn(text) for the Agent's system-probe unit file (the first unit directory holding it),
// then for its drop-ins in systemd's order; for none on a live host where systemd is not
// running.
template <typename Fn>
void for_each_probe_unit_text(const HostFs& fs, const Layout& layout, Fn&& fn) {
  if (fs.is_live() && !fs.exists("/run/systemd/system")) return;
  const std::string unit = layout.probe_service + ".service";
  for (const char* dir : kUnitDirs)
    if (const auto t = fs.read(std::string(dir) + "/" + unit, 64 * 1024)) {
      fn(t->text);
      break;
    }
  // Drop-ins of every directory, in the order of their file names; a name in a directory of
  // higher precedence hides the same name below it (systemd.unit).
  std::map<std::string, std::string> dropins;
  for (const char* dir : kUnitDirs) {
    const std::string folder = std::string(dir) + "/" + unit + ".d";
    for (const auto& n : fs.list(folder))
      if (n.ends_with(".conf")) dropins.try_emplace(n, folder + "/" + n);
  }
  for (const auto& [name, path] : dropins)
    if (const auto t = fs.read(path, 64 * 1024)) fn(t->text);
}

// The file's lines as systemd reads an EnvironmentFile: a line ending in an odd number of
// backslashes goes on with the next; a comment line never does (systemd 254 and later).
std::vector<std::string> logical_lines(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for_each_line(text, [&](std::string_view line) {
    const auto t = trim(line);
    const bool comment = cur.empty() && !t.empty() && (t.front() == '#' || t.front() == ';');
    if (!comment && continues(line)) {
      cur.append(line.substr(0, line.size() - 1));
      return;
    }
    out.push_back(cur + std::string(line));
    cur.clear();
  });
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// A KEY=VALUE line of an EnvironmentFile as systemd reads it: blanks around both trimmed, one
// pair of quotes removed; nullopt for a comment or a line without '='.
std::optional<std::pair<std::string_view, std::string_view>> env_assignment(std::string_view line) {
  line = trim(line);
  if (line.empty() || line.front() == '#' || line.front() == ';') return std::nullopt;
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  return std::pair{trim(line.substr(0, eq)), unquote(trim(line.substr(eq + 1)))};
}

// The override a KEY=VALUE line sets, if its variable is one of kBound (an empty value too: it
// clears an earlier one, and the Agent ignores an empty variable).
std::optional<EnvOverride> override_of(std::string_view line) {
  const auto a = env_assignment(line);
  if (!a) return std::nullopt;
  const auto [name, value] = *a;
  for (const auto& b : kBound)
    if (name == b.variable)
      return EnvOverride{std::string(name), std::string(value), std::string(b.key),
                         b.enables && !parses_true(value), ""};
  return std::nullopt;
}

// One line of a shell file as the words of its simple commands, as sh splits them: on unquoted
// blanks and ';', each word's quoted and unquoted parts joined with the quotes removed, up to an
// unquoted '#' that begins a word (a comment). Expansions are left as written.
std::vector<std::vector<std::string>> shell_commands(std::string_view line) {
  std::vector<std::vector<std::string>> commands(1);
  std::string word;
  bool in_word = false;
  char quote = 0;
  const auto end_word = [&] {
    if (in_word) commands.back().push_back(word);
    word.clear();
    in_word = false;
  };
  for (const char c : line) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      end_word();
    } else if (c == ';') {
      end_word();
      commands.emplace_back();
    } else if (c == '#' && !in_word) {
      break;
    } else {
      word += c;
      in_word = true;
    }
  }
  end_word();
  return commands;
}

// NAME=... with NAME a shell variable name.
bool is_assignment(std::string_view word) {
  const auto eq = word.find('=');
  return eq != std::string_view::npos && is_variable_name(word.substr(0, eq));
}

// The value a shell file sourced by an init script leaves in `variable`: its last assignment
// (`NAME=value`, after `export` or `readonly`, quoted or not, several on a line), nothing after
// `unset NAME`. An assignment before a command sets it for that command only, and is skipped.
// Lines end at '\n' alone: a '\r' stays in the value, as sh keeps it. What only running the file
// could tell (conditionals, expansions) is not followed: the health check still sees a probe
// that did not start.
std::optional<std::string> shell_assignment(std::string_view text, std::string_view variable) {
  std::optional<std::string> value;
  const std::string prefix = std::string(variable) + "=";
  for (std::size_t pos = 0; pos <= text.size();) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    for (const auto& words : shell_commands(text.substr(pos, nl - pos))) {
      if (words.empty()) continue;
      if (words[0] == "unset") {
        if (std::find(words.begin() + 1, words.end(), std::string(variable)) != words.end())
          value.reset();
        continue;
      }
      const bool declaration = words[0] == "export" || words[0] == "readonly";
      const auto first = words.begin() + (declaration ? 1 : 0);
      if (!declaration && !std::all_of(first, words.end(), is_assignment)) continue;
      for (auto w = first; w != words.end(); ++w)
        if (w->starts_with(prefix)) value = w->substr(prefix.size());
    }
    pos = nl + 1;
  }
  return value;
}

// The variable the Datadog installer's units set to the Agent's Fleet Automation policies
// folder (Environment="DD_FLEET_POLICIES_DIR=/etc/datadog-agent/managed/datadog-agent/stable").
constexpr std::string_view kFleetPoliciesVariable = "DD_FLEET_POLICIES_DIR";

// The variables a unit's Environment= settings leave in `vars` (what earlier files said); an
// empty Environment= clears them all (systemd.exec).
void unit_environment(std::string_view text, std::string_view unit,
                      std::map<std::string, std::string>& vars) {
  for_each_service_setting(text, "Environment", [&](std::string_view value) {
    if (value.empty()) {
      vars.clear();
      return;
    }
    for (auto& [name, v] : environment_assignments(value, unit)) vars[name] = std::move(v);
  });
}

// Whether the Agent reads a scalar as true for a boolean key. Its readers (viper and
// nodetreemodel) take YAML 1.1 with Go's yaml.v2, then cast.ToBoolE: a bool as it is, an integer
// as != 0, a string by strconv.ParseBool, anything else (a float) false. Quoted (yaml-cpp's tag
// "!"), the text is a string; plain ("?"), YAML 1.1 resolves the bool and integer words first.
bool reads_true(const YAML::Node& v) {
  const std::string& s = v.Scalar();
  if (v.Tag() != "!") {
    for (const char* t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
      if (s == t) return true;
    for (const char* f :
         {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
      if (s == f) return false;
    const auto digits = s.find_first_not_of("+-");
    if (digits != std::string::npos && digits <= 1 &&
        s.find_first_not_of("0123456789_", digits) == std::string::npos)
      return s.find_first_not_of("+-0_") != std::string::npos;  // an integer: != 0
  }
  return parses_true(s);
}

// Calls fn(path, value) for every value of a YAML document that is not a mapping, by its dotted,
// lower-cased path (viper's: a dotted key and its nested spelling are one key).
template <typename Fn>
void for_each_key_path(const YAML::Node& node, const std::string& prefix, Fn&& fn) {
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string path = prefix + agent_key(kv.first.Scalar());
    if (kv.second.IsMap())
      for_each_key_path(kv.second, path + ".", fn);
    else
      fn(path, kv.second);
  }
}

// A null (`key:` alone, `~`): it sets nothing here; whether the Agent's merge counts it is not
// told by its code, and a refusal must not rest on a guess.
bool is_null(const YAML::Node& v) {
  return v.IsNull() || (v.IsScalar() && v.Scalar().empty() && v.Tag() != "!");
}

// The scalars of a policy document at the keys of kBound.
void collect_policy_keys(const YAML::Node& doc, const std::string& file,
                         std::vector<EnvOverride>& out) {
  for_each_key_path(doc, "", [&](const std::string& path, const YAML::Node& v) {
    if (!v.IsScalar() || is_null(v)) return;
    for (const auto& b : kBound)
      if (path == b.key)
        out.push_back({"", v.Scalar(), std::string(b.key), b.enables && !reads_true(v), file});
  });
}

// A file of at most 1 MiB as YAML; nullopt when missing, larger, or not YAML (the Agent
// cannot read it either: its own error, reported by the installer's config.yaml_valid).
std::optional<YAML::Node> yaml_file(const HostFs& fs, const std::string& path) {
  const auto text = fs.read(path, 1024 * 1024);
  if (!text || text->truncated) return std::nullopt;
  try {
    return load_yaml(text->text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// A variable as the Agent's system-probe gets it, and where it is set: the environment file it
// reads wins over the unit's Environment= (systemd.exec), its last line over earlier ones.
struct EnvValue {
  std::string value, source;
};
std::optional<EnvValue> env_value(const AgentSources& e, std::string_view variable,
                                  const Layout& layout) {
  std::optional<EnvValue> out;
  if (const auto u = e.unit_vars.find(std::string(variable)); u != e.unit_vars.end())
    out = EnvValue{u->second, "the Environment= of " + layout.probe_service + ".service"};
  for (const auto& line : e.env_lines)
    if (const auto a = env_assignment(line); a && a->first == variable)
      out = EnvValue{std::string(a->second), agent_env_file(layout)};
  return out;
}

// The overrides of kBound the environment file sets (the last line of a variable wins).
std::vector<EnvOverride> env_overrides(const AgentSources& e, const Layout& layout) {
  std::vector<EnvOverride> out;
  for (const auto& line : e.env_lines) {
    auto o = override_of(line);
    if (!o) continue;
    o->source = agent_env_file(layout);
    std::erase_if(out, [&](const EnvOverride& x) { return x.variable == o->variable; });
    if (!o->value.empty()) out.push_back(std::move(*o));
  }
  return out;
}

// The Agent's fleet policies folder: DD_FLEET_POLICIES_DIR as its system-probe unit sets it,
// where an EnvironmentFile= it reads wins over Environment= (systemd.exec), else the
// `fleet_policies_dir` key of its system-probe.yaml (an environment variable ranks above it).
std::optional<std::string> fleet_policies_dir(const AgentSources& e, const Layout& layout) {
  if (auto dir = env_value(e, kFleetPoliciesVariable, layout)) return std::move(dir->value);
  if (e.config)
    if (const auto key = (*e.config)["fleet_policies_dir"]; key && key.IsScalar())
      return key.Scalar();
  return std::nullopt;
}

// The overrides of kBound the fleet policy sets.
std::vector<EnvOverride> policy_overrides(const AgentSources& e) {
  std::vector<EnvOverride> out;
  if (e.policy) collect_policy_keys(*e.policy, e.policy_file, out);
  return out;
}

// Go's strings.Fields: the words between runs of blanks.
std::vector<std::string> fields(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto start = s.find_first_not_of(" \t\n\v\f\r", i);
    if (start == std::string_view::npos) break;
    auto end = s.find_first_of(" \t\n\v\f\r", start);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(start, end - start));
    i = end;
  }
  return out;
}

// A plain scalar that YAML 1.1 resolves to a number, as the Agent's config turns it back into
// text (go-yaml's resolve, then cast.ToString): an integer (Go's ParseInt, base 0: 0x, 0o, 0b
// and a leading 0 for octal) in decimal, a float (yamlStyleFloat) by FormatFloat(f, 'f', -1):
// the plain `5.10` of a list is "5.1". nullopt for text that stays text (quoted, or not a
// number).
std::optional<std::string> plain_number_text(const YAML::Node& v) {
  if (v.Tag() != "?") return std::nullopt;
  std::string plain = v.Scalar();
  std::erase(plain, '_');
  static const std::regex kInt(
      R"(^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$)");
  static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  if (std::regex_match(plain, kInt)) {
    const bool negative = plain[0] == '-';
    std::string digits = plain.substr(plain[0] == '-' || plain[0] == '+' ? 1 : 0);
    int base = 10;
    if (digits.size() > 1 && digits[0] == '0') {
      const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
      base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 8;
      digits = digits.substr(p == 'x' || p == 'o' || p == 'b' ? 2 : 1);
    }
    errno = 0;
    const unsigned long long n = std::strtoull(digits.c_str(), nullptr, base);
    if (errno == 0) return (negative && n != 0 ? "-" : "") + std::to_string(n);
  }
  if (!std::regex_match(plain, kFloat)) return std::nullopt;
  const double d = std::strtod(plain.c_str(), nullptr);
  char buf[400];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  if (r.ec != std::errc()) return std::nullopt;
  return std::string(buf, r.ptr);
}

// A value as the Agent's GetStringSlice reads it (cast.ToStringSlice): a sequence's scalar
// items as text (a number as the Agent prints it back), a string split as strings.Fields
// splits it, a number alone no list at all (cast refuses it); nullopt for a null (unset).
std::optional<std::vector<std::string>> string_slice(const YAML::Node& v) {
  if (is_null(v)) return std::nullopt;
  if (v.IsScalar()) return plain_number_text(v) ? std::vector<std::string>{} : fields(v.Scalar());
  std::vector<std::string> out;
  if (v.IsSequence())
    for (const auto& item : v)
      if (item.IsScalar()) out.push_back(plain_number_text(item).value_or(item.Scalar()));
  return out;
}

// The list a YAML document sets at `key` (the last spelling of it wins, as in the Agent's
// merge of a dotted and a nested one).
std::optional<std::vector<std::string>> list_at(const YAML::Node& doc, std::string_view key) {
  std::optional<std::vector<std::string>> out;
  for_each_key_path(doc, "", [&](const std::string& path, const YAML::Node& v) {
    if (path == key)
      if (auto l = string_slice(v)) out = std::move(l);
  });
  return out;
}

constexpr std::string_view kExcludedVersionsKey = "system_probe_config.excluded_linux_versions";
// Bound without a name of its own (BindEnvAndSetDefault(key, []string{})): DD_ and the key's
// path upper-cased, dots as underscores.
constexpr std::string_view kExcludedVersionsVariable =
    "DD_SYSTEM_PROBE_CONFIG_EXCLUDED_LINUX_VERSIONS";

}  // namespace

std::optional<std::string> sysv_probe_disabled_by(const HostFs& fs, const Layout& layout) {
  const auto script = fs.read(layout.sysv_init_dir + "/" + layout.probe_service, 256 * 1024);
  if (!script) return std::nullopt;
  for (const char* dir : {"/etc/default/", "/etc/sysconfig/"}) {
    if (script->text.find(dir) == std::string::npos) continue;
    const std::string file = dir + layout.probe_service;
    if (const auto t = fs.read(file, 64 * 1024))
      if (shell_assignment(t->text, "DATADOG_ENABLED") == "no") return file;
  }
  return std::nullopt;
}

std::string agent_env_file(const Layout& layout) { return layout.config_dir + "/environment"; }

AgentSources read_agent_sources(const HostFs& fs, const Layout& layout) {
  AgentSources e;
  for_each_probe_unit_text(fs, layout, [&](std::string_view text) {
    e.reads_env_file = names_env_file(text, agent_env_file(layout), e.reads_env_file);
    unit_environment(text, layout.probe_service + ".service", e.unit_vars);
  });
  if (e.reads_env_file)
    if (const auto t = fs.read(agent_env_file(layout), 64 * 1024))
      e.env_lines = logical_lines(t->text);
  e.config = yaml_file(fs, layout.config_file);
  if (const auto dir = fleet_policies_dir(e, layout); dir && !dir->empty()) {
    e.policy_file = *dir + "/system-probe.yaml";
    e.policy = yaml_file(fs, e.policy_file);
  }
  return e;
}

std::vector<EnvOverride> agent_env_overrides(const HostFs& fs, const Layout& layout) {
  return env_overrides(read_agent_sources(fs, layout), layout);
}

std::vector<EnvOverride> agent_policy_overrides(const HostFs& fs, const Layout& layout) {
  return policy_overrides(read_agent_sources(fs, layout));
}

std::vector<EnvOverride> agent_overrides(const AgentSources& sources, const Layout& layout) {
  auto out = env_overrides(sources, layout);
  const auto policy = policy_overrides(sources);
  for (const auto& p : policy)  // the policy wins: a variable for the same key counts no more
    std::erase_if(out, [&](const EnvOverride& x) { return x.key == p.key; });
  out.insert(out.end(), policy.begin(), policy.end());
  return out;
}

std::vector<EnvOverride> agent_overrides(const HostFs& fs, const Layout& layout) {
  return agent_overrides(read_agent_sources(fs, layout), layout);
}

std::string describe_overrides(const std::vector<EnvOverride>& o, const Layout& layout) {
  std::string s;
  for (const auto& e : o)
    s += (s.empty() ? "" : "; ") +
         (e.variable.empty()
              ? e.key + ": " + e.value + " in " + e.source +
                    " (a Fleet Automation policy) overrides it in " + layout.config_file
              : e.variable + "=" + e.value + " in " + e.source + " overrides " + e.key);
  return s;
}

std::optional<AgentList> agent_excluded_linux_versions(const AgentSources& sources,
                                                       const Layout& layout) {
  if (sources.policy)
    if (auto l = list_at(*sources.policy, kExcludedVersionsKey))
      return AgentList{std::move(*l), std::string(kExcludedVersionsKey) + " in " +
                                          sources.policy_file + " (a Fleet Automation policy)"};
  if (const auto v = env_value(sources, kExcludedVersionsVariable, layout); v && !v->value.empty())
    return AgentList{fields(v->value), std::string(kExcludedVersionsVariable) + " in " + v->source};
  if (sources.config)
    if (auto l = list_at(*sources.config, kExcludedVersionsKey))
      return AgentList{std::move(*l),
                       std::string(kExcludedVersionsKey) + " in " + layout.config_file};
  return std::nullopt;
}

}  // namespace cnm
