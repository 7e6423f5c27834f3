// Read-only access to a host's files, either the live host ("/") or a folder that describes
// one (--root). Every path is resolved inside the root as a chroot would (common/root_dir.h:
// a Debian 8 root whose etc/os-release links to /usr/lib/os-release is read from the root's
// usr/lib), and read with the one bounded reader (common/file_read.h), so a hostile 10 MB
// "os-release", a FIFO or a link to /dev/zero costs nothing; every path a check reads goes
// through here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_read.h"
#include "common/root_dir.h"

namespace cnm {

struct FileText {
  std::string text;
  bool truncated = false;  // the file was longer than the limit; text holds its start
};

class HostFs {
 public:
  explicit HostFs(std::filesystem::path root = "/");

  bool is_live() const { return dir_->is_live(); }
  const std::filesystem::path& root() const { return dir_->path(); }
  const RootDir& dir() const { return *dir_; }
  // Where host_path is, for messages (never opened by name: see dir()).
  std::filesystem::path path(std::string_view host_path) const;

  // Reads up to max_bytes of a regular or proc/sys file. nullopt when absent or unreadable.
  std::optional<FileText> read(std::string_view host_path, std::size_t max_bytes = 64 * 1024) const;
  // The same with why it could not be read (absent, unreadable, not a regular file).
  FileRead read_file(std::string_view host_path, std::size_t max_bytes = 64 * 1024) const;
  // Whether something is there, links followed inside the root: a dangling or looping link is
  // nothing (a host file a check looks for is there only if it could be read). RootDir::exists
  // (lstat) is the installer's: a link it would write over counts there.
  bool exists(std::string_view host_path) const;
  bool is_dir(std::string_view host_path) const;
  std::vector<std::string> list(std::string_view host_dir) const;

  // Whether this host description covers host_path's folder at all: always on the live host;
  // under --root only if the folder exists. Checks use it to say "skip" for parts of a host
  // a fixture does not describe, rather than reporting them as missing.
  bool describes(std::string_view host_dir) const;

 private:
  std::shared_ptr<const RootDir> dir_;
};

// Why a host file that a check needed was not used, for its message: "is unreadable
// (Permission denied)", "is a FIFO, not a regular file", "is missing".
std::string describe_unread(const FileRead& r, std::size_t max_bytes = 64 * 1024);

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
