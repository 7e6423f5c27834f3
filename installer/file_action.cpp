#include "installer/file_action.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <stdexcept>
#include <system_error>

#include "common/file_read.h"

namespace cnm {
namespace {

constexpr ReadLimits kWhole{kMaxManagedFileBytes, OverLimit::Refuse, false};

std::optional<std::string> take(FileRead r, const std::string& shown,
                                const std::function<std::string()>& link_target, mode_t* mode) {
  switch (r.status) {
    case ReadStatus::Ok:
      if (mode) *mode = r.mode & 07777;
      return std::move(r.text);
    case ReadStatus::Absent:
      // ENOTDIR too: a parent is not a folder, so the file is absent; creating it will fail in
      // the apply step, which then rolls back.
      return std::nullopt;
    case ReadStatus::IsLink:
      // The file itself is a symlink. Following it could leave the host's config folder; say
      // what it is instead of "too many levels of symbolic links".
      throw std::runtime_error(shown + " is a symbolic link to '" + link_target() +
                               "'; cnmkit does not follow links: replace it with the file "
                               "itself (e.g. cp --remove-destination) and run again");
    case ReadStatus::NotRegular:
      throw std::runtime_error(shown + " exists but " + r.why(kWhole.max_bytes) +
                               "; refusing to replace it");
    case ReadStatus::Unreadable:
      throw std::system_error(r.error, std::generic_category(), "cannot read " + shown);
    case ReadStatus::TooLarge:
      throw std::runtime_error(shown + " " + r.why(kWhole.max_bytes));
  }
  return std::nullopt;
}

std::string link_text(int dirfd, const std::string& name) {
  char buf[4096];
  const ssize_t n = ::readlinkat(dirfd, name.c_str(), buf, sizeof buf - 1);
  return n < 0 ? std::string("?") : std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

std::optional<std::string> read_whole(const RootDir& root, const std::string& host_path,
                                      mode_t* mode) {
  return take(
      read_file(root, host_path, kWhole), root.display(host_path).string(),
      [&] {
        const auto e = root.parent(host_path);
        return e.dir ? link_text(e.dir.get(), e.name) : std::string("?");
      },
      mode);
}

std::optional<std::string> read_whole(const std::filesystem::path& p, mode_t* mode) {
  return take(
      read_file(p, kWhole), p.string(), [&] { return link_text(AT_FDCWD, p.string()); }, mode);
}

FileAction current_file(const Layout& layout, const std::string& host_path) {
  FileAction a;
  a.host_path = host_path;
  a.before = read_whole(RootDir(layout.root), host_path, &a.before_mode);
  return a;
}

}  // namespace cnm
