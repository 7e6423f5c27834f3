// A folder's full state (every path's type, mode, content or link target, and mtime) so tests
// can assert "byte-for-byte the same tree" and "no file touched".
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>

#include "tests/support/test_support.h"

namespace cnm::test {

struct Node {
  char type = '?';  // f file, d dir, l link, o other
  mode_t mode = 0;
  std::string content;  // file bytes or link target
  long long mtime_ns = 0;
  bool operator==(const Node& o) const {
    return type == o.type && mode == o.mode && content == o.content;
  }
};

using Tree = std::map<std::string, Node>;

inline Tree snapshot(const std::filesystem::path& root, const std::string& skip_prefix = "") {
  Tree t;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    const auto rel = std::filesystem::relative(it->path(), root).string();
    if (!skip_prefix.empty() && rel.rfind(skip_prefix, 0) == 0) continue;
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    Node n;
    n.mode = st.st_mode & 07777;
    n.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    if (S_ISREG(st.st_mode)) {
      n.type = 'f';
      n.content = read_file(it->path());
    } else if (S_ISDIR(st.st_mode)) {
      n.type = 'd';
    } else if (S_ISLNK(st.st_mode)) {
      n.type = 'l';
      n.content = std::filesystem::read_symlink(it->path()).string();
    } else {
      n.type = 'o';
    }
    t[rel] = n;
  }
  return t;
}

// Paths whose content, type or mode differ (for readable failures).
inline std::string tree_diff(const Tree& a, const Tree& b) {
  std::string out;
  for (const auto& [p, n] : a) {
    const auto it = b.find(p);
    if (it == b.end())
      out += "only before: " + p + "\n";
    else if (!(it->second == n))
      out += "differs: " + p + "\n";
  }
  for (const auto& [p, n] : b)
    if (!a.count(p)) out += "only after: " + p + "\n";
  return out;
}

}  // namespace cnm::test
