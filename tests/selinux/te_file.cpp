#include "tests/selinux/te_file.h"

#include <regex>
#include <sstream>

#include "tests/support/test_support.h"

namespace cnm::test {

std::string packaged_te_path() {
  return (source_dir() / "selinux" / "system_probe_policy.te").string();
}

TeFile read_te(const std::string& path) {
  TeFile f;
  f.text = read_file(path);
  static const std::regex module_re(R"(^\s*module\s+(\S+)\s+([0-9.]+)\s*;)");
  static const std::regex allow_re(
      R"(^\s*allow\s+(\S+)\s+(\S+):(\S+)\s+(\{([^}]*)\}|([A-Za-z0-9_]+))\s*;)");
  std::istringstream in(f.text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (f.module.empty() && std::regex_search(line, m, module_re)) {
      f.module = m[1];
      f.version = m[2];
    } else if (std::regex_search(line, m, allow_re)) {
      TeAllow a{m[1], m[2], m[3], {}, n};
      if (a.target == "self") a.target = a.source;
      std::istringstream perms(m[5].matched ? m[5].str() : m[6].str());
      std::string p;
      while (perms >> p) a.perms.insert(p);
      f.allows.push_back(a);
    }
  }
  return f;
}

}  // namespace cnm::test
