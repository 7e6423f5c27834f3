#include "probe/bytes_path.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

namespace cnm::probe {
namespace {

bool write_all(int fd, std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

std::optional<BytesPath> BytesPath::hold(std::span<const std::byte> bytes, const std::string& name,
                                         Holder first) {
  BytesPath out;
  if (first == Holder::kMemoryFile) {
    // memfd_create fails with ENOSYS before Linux 3.17; /proc/self/fd/N is missing without /proc.
    UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC));
    const int memfd_errno = errno;
    const std::string proc_path = "/proc/self/fd/" + std::to_string(fd.get());
    if (fd && write_all(fd.get(), bytes) && ::access(proc_path.c_str(), R_OK) == 0) {
      out.memory_file_ = std::move(fd);
      out.path_ = proc_path;
      return out;
    }
    // Said once per hand-over: an operator who finds the probe's files in /tmp (and the SELinux
    // rule that allows them) learns why.
    spdlog::info("no memory file for {} ({}): handing it over through a temp file", name,
                 fd ? "/proc/self/fd unreadable" : std::system_category().message(memfd_errno));
  }
  const char* tmpdir = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmpdir && *tmpdir == '/' ? tmpdir : "/tmp") + "/" + name + "-XXXXXX";
  const UniqueFd fd(::mkostemp(templ.data(), O_CLOEXEC));  // 0600, a name of its own
  if (!fd) return std::nullopt;
  out.path_ = std::move(templ);
  out.temp_file_ = true;
  if (!write_all(fd.get(), bytes)) return std::nullopt;  // `out` removes the partial file
  return out;
}

BytesPath::BytesPath(BytesPath&& o) noexcept
    : memory_file_(std::move(o.memory_file_)),
      temp_file_(std::exchange(o.temp_file_, false)),
      path_(std::exchange(o.path_, std::string())) {}

BytesPath& BytesPath::operator=(BytesPath&& o) noexcept {
  if (this != &o) {
    remove_temp_file();
    memory_file_ = std::move(o.memory_file_);
    temp_file_ = std::exchange(o.temp_file_, false);
    path_ = std::exchange(o.path_, std::string());
  }
  return *this;
}

BytesPath::~BytesPath() { remove_temp_file(); }

void BytesPath::remove_temp_file() {
  if (temp_file_) ::unlink(path_.c_str());
  temp_file_ = false;
}

}  // namespace cnm::probe
