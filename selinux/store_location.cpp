#include "selinux/store_location.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <utility>

#include "common/file_read.h"

namespace cnm::selinux {
namespace {

constexpr std::string_view kKey = "store-root";

std::string_view trim_blanks_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// SELINUXTYPE names a folder (/etc/selinux/TYPE, STORE_ROOT/TYPE): one plain name, or the
// paths built from it would point elsewhere.
bool plain_name(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

// Arguments of sefcontext_compile as distributions write them: `$@` (the file), `-r` (no
// precompiled regular expressions). libsemanage splits them on blanks, no shell.
bool only_plain_arguments(std::string_view args) {
  std::size_t at = 0;
  while (at < args.size()) {
    const auto start = args.find_first_not_of(" \t", at);
    if (start == std::string_view::npos) break;
    const auto end = std::min(args.find_first_of(" \t", start), args.size());
    const std::string_view word = args.substr(start, end - start);
    if (word != "-r" && word != "$@") return false;
    at = end;
  }
  return true;
}

bool is_c_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view skip_c_spaces(std::string_view s) {
  while (!s.empty() && is_c_space(s.front())) s.remove_prefix(1);
  return s;
}

bool starts_with_any_case(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

// selinux_getenforcemode's reading of one line: the mode it names, or "" to read on.
std::string enforce_mode_of(std::string_view line) {
  constexpr std::string_view kTag = "SELINUX=";
  if (!line.starts_with(kTag)) return "";
  const std::string_view value = skip_c_spaces(line.substr(kTag.size()));
  for (const std::string_view mode : {"enforcing", "permissive", "disabled"})
    if (starts_with_any_case(value, mode)) return std::string(mode);
  return "";
}

// init_selinux_config's reading of one line: the policy type it names, if it names one. libselinux
// copies the value as a C string, so it ends at a NUL byte.
std::optional<std::string> policy_type_of(std::string_view line) {
  constexpr std::string_view kTag = "SELINUXTYPE=";
  line = skip_c_spaces(line);
  if (!starts_with_any_case(line, kTag)) return std::nullopt;
  std::string_view value = skip_c_spaces(line.substr(kTag.size()));
  value = value.substr(0, value.find('\0'));
  while (value.size() > 1 &&
         (is_c_space(value.back()) || std::iscntrl(static_cast<unsigned char>(value.back())) != 0))
    value.remove_suffix(1);
  return std::string(value);
}

}  // namespace

SelinuxConfig parse_selinux_config(std::string_view text) {
  SelinuxConfig config;
  std::optional<std::string> type;
  for_each_line(text, [&](std::string_view line) {
    if (config.mode.empty()) config.mode = enforce_mode_of(line);
    if (auto t = policy_type_of(line)) type = std::move(t);
  });
  config.policy_type = type.value_or("targeted");
  return config;
}

SemanageConf parse_semanage_conf(std::string_view text) {
  SemanageConf conf;
  bool in_block = false;  // [load_policy], [setfiles], [verify kernel], ...: up to [end]
  for_each_line(text, [&](std::string_view raw) {
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') return;
    if (line.front() == '[') {
      in_block = !line.starts_with("[end]");
      if (in_block) {
        const auto close = line.find(']');
        conf.programs.push_back(
            {std::string(trim(line.substr(
                 1, close == std::string_view::npos ? std::string_view::npos : close - 1))),
             "", ""});
      }
      return;
    }
    if (in_block) {
      // libsemanage's blocks hold only `path =` and `args =`.
      const auto eq = line.find('=');
      if (eq == std::string_view::npos) return;
      const std::string_view key = trim(line.substr(0, eq));
      const std::string value(trim(line.substr(eq + 1)));
      if (key == "path") conf.programs.back().path = value;
      if (key == "args") conf.programs.back().args = value;
      return;
    }
    if (!line.starts_with(kKey)) return;
    // From raw, not line: a quoted value followed by blanks is not a quoted value.
    std::string_view rest = trim_blanks_left(raw.substr(raw.find(kKey) + kKey.size()));
    if (rest.empty() || rest.front() != '=') return;  // another key, e.g. "store-rootx"
    // After '=' the scanner takes the rest of the line: a '#' there is part of the value.
    rest = trim_blanks_left(rest.substr(1));
    if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"')
      conf.store_root = std::string(rest.substr(1, rest.size() - 2));  // as written, blanks and all
    else
      conf.store_root = std::string(trim(rest));
  });
  return conf;
}

std::string root_program_problem(const std::vector<ProgramBlock>& blocks) {
  for (const auto& b : blocks) {
    if (b.name == "load_policy" || b.name == "setfiles") continue;  // turned off under --root
    if (b.name == "sefcontext_compile" &&
        (b.path == "/usr/sbin/sefcontext_compile" || b.path == "/sbin/sefcontext_compile")) {
      if (only_plain_arguments(b.args)) continue;
    }
    return "its [" + b.name + "] block would run `" + b.path + " " + b.args +
           "` on this host at the commit (only /usr/sbin/sefcontext_compile with -r and $@ is "
           "taken from a root)";
  }
  return "";
}

std::string normalize_store_root(std::string_view value) {
  std::filesystem::path p(value);
  if (!p.is_absolute()) p = std::filesystem::path("/") / p;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

StoreDir store_dir(const HostFs& fs, const std::string& host_path) {
  struct stat st {};
  if (fs.dir().stat(host_path, st))
    return S_ISDIR(st.st_mode) ? StoreDir::kPresent : StoreDir::kAbsent;
  return errno == EACCES ? StoreDir::kClosed : StoreDir::kAbsent;
}

StoreLocation store_location(const HostFs& fs) {
  StoreLocation loc;
  loc.origin = "default";
  bool named = false;  // semanage.conf names the store root
  if (const auto t = fs.read("/etc/selinux/config")) {
    auto config = parse_selinux_config(t->text);
    loc.config_mode = std::move(config.mode);
    loc.policy_type = std::move(config.policy_type);
  }
  const std::string conf_path(kSemanageConf);
  const auto conf =
      read_file(fs.dir(), conf_path, ReadLimits{kSemanageConfMaxBytes, OverLimit::Refuse, true});
  if (conf.ok()) {
    auto parsed = parse_semanage_conf(conf.text);
    loc.programs = std::move(parsed.programs);
    if (const auto& v = parsed.store_root) {
      if (v->empty()) {
        loc.problem = fs.path(conf_path).string() +
                      ": store-root has no value (libsemanage refuses the file)";
      } else {
        loc.store_root = normalize_store_root(*v);
        loc.origin = conf_path + " (store-root = " + *v + ")";
        named = true;
      }
    }
  } else if (conf.status != ReadStatus::Absent) {
    loc.problem = fs.path(conf_path).string() + " " + conf.why(kSemanageConfMaxBytes);
  }
  if (loc.policy_type.empty()) return loc;
  if (!plain_name(loc.policy_type)) {
    if (loc.problem.empty())
      loc.problem = fs.path("/etc/selinux/config").string() + ": SELINUXTYPE=" + loc.policy_type +
                    " is not a policy name";
    return loc;
  }
  // RHEL/CentOS 7: libsemanage 2.5 as Red Hat ships it keeps the store in
  // /etc/selinux/TYPE/active whether or not semanage.conf says so; our libsemanage's default
  // would miss it. Only when nothing names a store root and the default has none.
  const std::string rhel7 = "/etc/selinux/" + loc.policy_type;
  if (!named && loc.problem.empty() &&
      store_dir(fs, loc.store_root + "/" + loc.policy_type + "/active") == StoreDir::kAbsent &&
      store_dir(fs, rhel7 + "/active") != StoreDir::kAbsent) {
    loc.store_root = "/etc/selinux";
    loc.origin = rhel7 + "/active (no store-root in " + conf_path + ", the RHEL/CentOS 7 layout)";
  }
  loc.path = (loc.store_root == "/" ? "" : loc.store_root) + "/" + loc.policy_type;
  return loc;
}

}  // namespace cnm::selinux
