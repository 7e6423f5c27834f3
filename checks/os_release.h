// The os-release format (freedesktop.org, os-release(5)): newline-separated KEY=VALUE lines,
// '#' comments, values optionally in single or double quotes with shell-style backslash
// escapes. Also lsb-release, which uses the same syntax. Parsing never fails: lines that are
// not assignments are counted and skipped, so a half-broken file still yields what it holds.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace cnm {

struct KeyValueFile {
  std::map<std::string, std::string> values;
  int malformed_lines = 0;

  // Value of key or "" when absent.
  std::string get(const std::string& key) const;
  bool has(const std::string& key) const { return values.count(key) != 0; }
};

KeyValueFile parse_os_release(std::string_view text);

// "CentOS Linux release 7.6.1810 (Core)", "Amazon Linux AMI release 2016.03",
// "Red Hat Enterprise Linux Server release 7.9 (Maipo)": the product name and its version.
struct ReleaseLine {
  std::string name;     // "CentOS Linux"
  std::string version;  // "7.6.1810"; empty when the line has no "release N"
};
ReleaseLine parse_release_line(std::string_view text);

}  // namespace cnm
