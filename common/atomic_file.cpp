#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace cnm {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& p) {
  throw std::system_error(errno, std::generic_category(), what + " " + p.string());
}

}  // namespace

void atomic_write(const std::filesystem::path& target, std::string_view content, mode_t mode,
                  std::optional<FileOwner> owner) {
  const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".cnmkit-XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) fail("cannot create temp file next to", target);
  const std::filesystem::path tmp = tmpl;
  auto cleanup = [&] {
    const int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
  };
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup();
      fail("cannot write", tmp);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) {
    cleanup();
    fail("cannot chmod", tmp);
  }
  if (owner && ::fchown(fd, owner->uid, owner->gid) != 0) {
    cleanup();
    fail("cannot chown", tmp);
  }
  if (::fsync(fd) != 0) {
    cleanup();
    fail("cannot fsync", tmp);
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot close", tmp);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail("cannot rename onto", target);
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace cnm
