#include "common/host_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace cnm {

HostFs::HostFs(std::filesystem::path root)
    : root_(root.empty() ? std::filesystem::path("/") : std::move(root)), live_(root_ == "/") {}

std::filesystem::path HostFs::path(std::string_view host_path) const {
  while (!host_path.empty() && host_path.front() == '/') host_path.remove_prefix(1);
  return root_ / host_path;
}

std::optional<FileText> HostFs::read(std::string_view host_path, std::size_t max_bytes) const {
  const auto p = path(host_path);
  // O_NONBLOCK so a FIFO planted in a fixture cannot hang the preflight.
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  FileText out;
  // Grow as data arrives: proc/sys files report size 0, and a large limit must not cost a
  // large allocation for a small file. One byte past the limit tells truncation apart.
  const std::size_t want = max_bytes + 1;
  std::size_t chunk = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 4096;
  std::size_t got = 0;
  while (got < want) {
    if (out.text.size() < std::min(want, got + chunk)) out.text.resize(std::min(want, got + chunk));
    const ssize_t n = ::read(fd, out.text.data() + got, out.text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (got == out.text.size()) chunk = std::max<std::size_t>(chunk, 64 * 1024);
  }
  ::close(fd);
  out.truncated = got > max_bytes;
  out.text.resize(out.truncated ? max_bytes : got);
  return out;
}

bool HostFs::exists(std::string_view host_path) const {
  std::error_code ec;
  return std::filesystem::exists(path(host_path), ec);
}

bool HostFs::is_dir(std::string_view host_path) const {
  std::error_code ec;
  return std::filesystem::is_directory(path(host_path), ec);
}

bool HostFs::describes(std::string_view host_dir) const { return live_ || is_dir(host_dir); }

std::string_view trim(std::string_view s) {
  const auto ws = " \t\r\n\v\f";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string first_line(std::string_view s) {
  const auto nl = s.find('\n');
  return std::string(trim(s.substr(0, nl)));
}

}  // namespace cnm
