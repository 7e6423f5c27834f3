#include "installer/file_action.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace cnm {

std::optional<std::string> read_whole(const std::filesystem::path& p, mode_t* mode) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) {
    // ENOTDIR: a parent is not a folder, so the file is absent; creating it will fail in
    // the apply step, which then rolls back.
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    if (errno == ELOOP) {
      // O_NOFOLLOW: the file itself is a symlink. Following it could leave --root (or the
      // host's config folder); say what it is instead of "too many levels of symbolic links".
      std::error_code ec;
      const auto target = std::filesystem::read_symlink(p, ec);
      throw std::runtime_error(p.string() + " is a symbolic link to '" +
                               (ec ? std::string("?") : target.string()) +
                               "'; cnmkit does not follow links: replace it with the file "
                               "itself (e.g. cp --remove-destination) and run again");
    }
    throw std::system_error(errno, std::generic_category(), "cannot open " + p.string());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(p.string() +
                             " exists but is not a regular file; refusing to replace it");
  }
  if (mode) *mode = st.st_mode & 07777;
  std::string out;
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      throw std::system_error(e, std::generic_category(), "cannot read " + p.string());
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

FileAction current_file(const Layout& layout, const std::string& host_path) {
  FileAction a;
  a.host_path = host_path;
  a.before = read_whole(layout.at(host_path), &a.before_mode);
  return a;
}

}  // namespace cnm
