// Reads our policy source the way a reviewer would: its module statement and its allow rules,
// so tests check the compiled module against what the .te says rather than a copied list.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace cnm::test {

struct TeAllow {
  std::string source, target, cls;
  std::set<std::string> perms;
  int line = 0;
};

struct TeFile {
  std::string text;
  std::string module, version;
  std::vector<TeAllow> allows;
};

TeFile read_te(const std::string& path);
// The packaged policy source: selinux/system_probe_policy.te.
std::string packaged_te_path();

}  // namespace cnm::test
