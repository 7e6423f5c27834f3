// Read-only access to a host's files, either the live host ("/") or a folder that describes
// one (--root). Reads are bounded so a hostile 10 MB "os-release" costs nothing and never
// crashes a parser; every path a check reads goes through here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace cnm {

struct FileText {
  std::string text;
  bool truncated = false;  // the file was longer than the limit; text holds its start
};

class HostFs {
 public:
  explicit HostFs(std::filesystem::path root = "/");

  bool is_live() const { return live_; }
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path(std::string_view host_path) const;

  // Reads up to max_bytes of a regular or proc/sys file. nullopt when absent or unreadable.
  std::optional<FileText> read(std::string_view host_path, std::size_t max_bytes = 64 * 1024) const;
  bool exists(std::string_view host_path) const;
  bool is_dir(std::string_view host_path) const;

  // Whether this host description covers host_path's folder at all: always on the live host;
  // under --root only if the folder exists. Checks use it to say "skip" for parts of a host
  // a fixture does not describe, rather than reporting them as missing.
  bool describes(std::string_view host_dir) const;

 private:
  std::filesystem::path root_;
  bool live_;
};

// Calls fn(line) for every line of text, without its '\n' or a trailing '\r'. A final line
// without '\n' counts; empty text is one empty line.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  std::size_t pos = 0;
  for (;;) {
    auto nl = text.find('\n', pos);
    const bool last = nl == std::string_view::npos;
    if (last) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line);
    if (last) return;
    pos = nl + 1;
  }
}

// First line of s without trailing whitespace.
std::string first_line(std::string_view s);
std::string_view trim(std::string_view s);

}  // namespace cnm
