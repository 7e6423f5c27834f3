#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace cnm {
namespace {

constexpr std::string_view kTempInfix = ".cnmkit-";
constexpr std::size_t kTempSuffix = 6;
constexpr std::string_view kTempChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

[[noreturn]] void fail(const std::string& what, const std::string& p) {
  throw std::system_error(errno, std::generic_category(), what + " " + p);
}

std::string temp_name(const std::string& name);

}  // namespace

std::string temp_name_for(const std::string& target) { return temp_name(target); }

namespace {

std::string temp_name(const std::string& name) {
  unsigned char rnd[kTempSuffix];
  if (::getrandom(rnd, sizeof rnd, 0) != static_cast<ssize_t>(sizeof rnd))
    for (auto& c : rnd) c = static_cast<unsigned char>(::random());
  std::string out = "." + name + std::string(kTempInfix);
  for (const unsigned char c : rnd) out += kTempChars[c % kTempChars.size()];
  return out;
}

}  // namespace

std::optional<std::string_view> temp_file_target(std::string_view name) {
  const std::size_t fixed = 1 + kTempInfix.size() + kTempSuffix;
  if (name.size() <= fixed || name.front() != '.') return std::nullopt;
  const auto target = name.substr(1, name.size() - fixed);
  if (name.substr(1 + target.size(), kTempInfix.size()) != kTempInfix) return std::nullopt;
  for (const char c : name.substr(name.size() - kTempSuffix))
    if (kTempChars.find(c) == std::string_view::npos) return std::nullopt;
  return target;
}

void atomic_write_at(int dirfd, const std::string& name, std::string_view content, mode_t mode,
                     std::optional<FileOwner> owner, const std::string& display) {
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = temp_name(name);
    fd = ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) fail("cannot create temp file next to", display);
  auto cleanup = [&] {
    const int saved = errno;
    ::close(fd);
    ::unlinkat(dirfd, tmp.c_str(), 0);
    errno = saved;
  };
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup();
      fail("cannot write", display);
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) {
    cleanup();
    fail("cannot chmod", display);
  }
  if (owner && ::fchown(fd, owner->uid, owner->gid) != 0) {
    cleanup();
    fail("cannot chown", display);
  }
  if (::fsync(fd) != 0) {
    cleanup();
    fail("cannot fsync", display);
  }
  if (::close(fd) != 0) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    fail("cannot close", display);
  }
  if (::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
    const int saved = errno;
    ::unlinkat(dirfd, tmp.c_str(), 0);
    errno = saved;
    fail("cannot rename onto", display);
  }
  ::fsync(dirfd);
}

void atomic_write(const RootDir& root, std::string_view host_path, std::string_view content,
                  mode_t mode, std::optional<FileOwner> owner) {
  const auto display = root.display(host_path).string();
  const auto e = root.parent(host_path);
  if (!e.dir) fail("cannot open the folder of", display);
  atomic_write_at(e.dir.get(), e.name, content, mode, owner, display);
}

void atomic_write(const std::filesystem::path& target, std::string_view content, mode_t mode,
                  std::optional<FileOwner> owner) {
  const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) fail("cannot open the folder of", target.string());
  atomic_write_at(dfd.get(), target.filename().string(), content, mode, owner, target.string());
}

}  // namespace cnm
