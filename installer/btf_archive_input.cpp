#include "installer/btf_archive_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/unique_fd.h"
#include "installer/file_action.h"  // kMaxManagedFileBytes
#include "probe/btf_archive.h"

namespace cnm {
namespace {

// The installer reads and writes the archive whole, as any file it manages.
static_assert(probe::kMaxBtfArchiveBytes <= kMaxManagedFileBytes);

[[noreturn]] void refuse(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error("--btf-archive " + file.string() + ": " + why +
                           "; nothing was installed");
}

std::string read_all(int fd, const std::filesystem::path& file, std::size_t size) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) refuse(file, std::strerror(errno));
    if (n == 0) refuse(file, "it shrank while being read");
    got += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace

BtfArchiveInput read_btf_archive_input(const std::filesystem::path& file) {
  const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) refuse(file, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) refuse(file, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) refuse(file, "not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > probe::kMaxBtfArchiveBytes)
    refuse(file, "larger than " + std::to_string(probe::kMaxBtfArchiveBytes) + " bytes");
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  BtfArchiveInput in;
  in.bytes = read_all(fd.get(), file, static_cast<std::size_t>(st.st_size));
  try {
    // The bytes read, not the file again: what is checked is what is installed.
    in.releases = probe::check_btf_archive(in.bytes, file.string());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + "; nothing was installed");
  }
  return in;
}

std::string btf_archive_destination(const std::string& bpf_object_dir) {
  return (std::filesystem::path(bpf_object_dir) / "btf" / probe::kBtfArchiveName).string();
}

}  // namespace cnm
