#include "common/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cnm {
namespace {

constexpr int kOpenFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

FileRead failed(ReadStatus s, int err = 0) {
  FileRead r;
  r.status = s;
  r.error = err;
  return r;
}

FileRead after_open_failure(int err) {
  if (err == ENOENT || err == ENOTDIR) return failed(ReadStatus::Absent);
  if (err == ELOOP) return failed(ReadStatus::IsLink, err);
  if (err == ENXIO) return failed(ReadStatus::NotRegular);  // a socket, or a FIFO's open
  return failed(ReadStatus::Unreadable, err);
}

}  // namespace

std::string file_type_name(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

std::string FileRead::why(std::size_t max_bytes) const {
  switch (status) {
    case ReadStatus::Ok:
      return "read";
    case ReadStatus::Absent:
      return "does not exist";
    case ReadStatus::Unreadable:
      return std::string("cannot be read: ") + std::strerror(error);
    case ReadStatus::NotRegular:  // mode is 0 when the open itself failed (ENXIO: a socket)
      if (!mode) return "is not a regular file; not read";
      return "is " + file_type_name(mode) + ", not a regular file; not read";
    case ReadStatus::TooLarge:
      return "is larger than " + std::to_string(max_bytes) + " bytes; not read";
    case ReadStatus::IsLink:
      return "is a symbolic link; not followed";
  }
  return "?";
}

FileRead read_fd(int fd, const ReadLimits& limits) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failed(ReadStatus::Unreadable, errno);
  FileRead out;
  out.mode = st.st_mode;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  if (!S_ISREG(st.st_mode)) {
    out.status = ReadStatus::NotRegular;
    return out;
  }
  if (limits.over == OverLimit::Refuse && st.st_size > 0 &&
      static_cast<std::uint64_t>(st.st_size) > limits.max_bytes) {
    out.status = ReadStatus::TooLarge;
    return out;
  }
  // Grow as data arrives: proc/sys files report size 0, and a large limit must not cost a
  // large allocation for a small file. One byte past the limit tells truncation apart, and
  // one past the size the end of the file: a file of the size fstat said fits in the first
  // buffer, which grows only once full (growing earlier copied a large file into a buffer
  // twice its size).
  const std::size_t want = limits.max_bytes + 1;
  std::size_t chunk = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 4096;
  std::size_t got = 0;
  while (got < want) {
    if (got == out.text.size()) out.text.resize(std::min(want, got + chunk));
    const ssize_t n = ::read(fd, out.text.data() + got, out.text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed(ReadStatus::Unreadable, errno);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
    if (got == out.text.size()) chunk = std::max<std::size_t>(chunk, 64 * 1024);
  }
  if (got > limits.max_bytes && limits.over == OverLimit::Refuse) {
    out.text.clear();
    out.status = ReadStatus::TooLarge;
    return out;
  }
  out.truncated = got > limits.max_bytes;
  out.text.resize(out.truncated ? limits.max_bytes : got);
  out.status = ReadStatus::Ok;
  return out;
}

FileRead read_file(const RootDir& root, std::string_view host_path, const ReadLimits& limits) {
  const UniqueFd fd = root.open(host_path, kOpenFlags | (limits.follow_last_link ? 0 : O_NOFOLLOW));
  if (!fd) return after_open_failure(errno);
  return read_fd(fd.get(), limits);
}

FileRead read_file(const std::filesystem::path& path, const ReadLimits& limits) {
  const UniqueFd fd(::open(path.c_str(), kOpenFlags | (limits.follow_last_link ? 0 : O_NOFOLLOW)));
  if (!fd) return after_open_failure(errno);
  return read_fd(fd.get(), limits);
}

std::optional<std::string> read_whole_file(const std::filesystem::path& path, std::size_t max_bytes,
                                           const std::string& what, bool absent_ok) {
  auto r = read_file(path, ReadLimits{max_bytes, OverLimit::Refuse, true});
  if (r.ok()) return std::move(r.text);
  if (r.status == ReadStatus::Absent && absent_ok) return std::nullopt;
  throw FileReadError(what + " " + path.string() + " " + r.why(max_bytes));
}

}  // namespace cnm
