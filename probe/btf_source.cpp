#include "probe/btf_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <utility>

#include "probe/embedded_files.h"

namespace cnm::probe {

std::string kernel_release() {
  utsname u{};
  return ::uname(&u) == 0 ? u.release : "";
}

BtfSource BtfSource::find(const std::string& configured, const std::filesystem::path& folder,
                          std::string_view release, const std::filesystem::path& sysfs_btf) {
  BtfSource s;
  std::error_code ec;
  if (!configured.empty()) {
    s.kind_ = Kind::kConfigured;
    s.path_ = configured;
    s.text_ = "file " + configured + " (system_probe_config.btf_path)";
    return s;
  }
  if (std::filesystem::exists(sysfs_btf, ec)) {
    s.kind_ = Kind::kKernel;
    s.text_ = "the kernel's (" + sysfs_btf.string() + ")";
    return s;
  }
  const std::string file = std::string(release) + ".btf";
  if (!folder.empty() && std::filesystem::is_regular_file(folder / file, ec)) {
    s.kind_ = Kind::kFolder;
    s.path_ = (folder / file).string();
    s.text_ = "file " + s.path_;
    return s;
  }
  if (const auto bytes = embedded_btf(release)) {
    if (s.hand_over(*bytes)) {
      s.kind_ = Kind::kEmbedded;
      s.text_ = "the embedded file for " + std::string(release);
      return s;
    }
  }
  s.text_ = "none: no kernel BTF (" + sysfs_btf.string() + "), no " +
            (folder.empty() ? file : (folder / file).string()) + ", and none embedded for " +
            std::string(release);
  return s;
}

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

// libbpf opens BTF files by path only (btf_custom_path). A memory file's path is
// /proc/self/fd/N, but memfd_create is Linux 3.17 (CentOS 7 runs 3.10) and a bare chroot has
// no /proc: then a private file in the temp folder, removed with this object.
bool BtfSource::hand_over(std::span<const std::byte> bytes) {
  const int fd = ::memfd_create("cnm-btf", MFD_CLOEXEC);
  const std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
  if (fd >= 0 && write_all(fd, bytes) && ::access(proc_path.c_str(), R_OK) == 0) {
    memfd_ = fd;
    path_ = proc_path;
    return true;
  }
  if (fd >= 0) ::close(fd);
  const char* tmpdir = std::getenv("TMPDIR");
  std::string templ = std::string(tmpdir && *tmpdir == '/' ? tmpdir : "/tmp") + "/cnm-btf-XXXXXX";
  const int tfd = ::mkostemp(templ.data(), O_CLOEXEC);
  if (tfd < 0) return false;
  const bool ok = write_all(tfd, bytes);
  ::close(tfd);
  if (!ok) {
    ::unlink(templ.c_str());
    return false;
  }
  path_ = temp_path_ = templ;
  return true;
}

BtfSource::BtfSource(BtfSource&& o) noexcept
    : kind_(o.kind_),
      path_(std::move(o.path_)),
      text_(std::move(o.text_)),
      memfd_(std::exchange(o.memfd_, -1)),
      temp_path_(std::move(o.temp_path_)) {
  o.temp_path_.clear();
}

BtfSource& BtfSource::operator=(BtfSource&& o) noexcept {
  if (this != &o) {
    release();
    kind_ = o.kind_;
    path_ = std::move(o.path_);
    text_ = std::move(o.text_);
    memfd_ = std::exchange(o.memfd_, -1);
    temp_path_ = std::exchange(o.temp_path_, std::string());
  }
  return *this;
}

void BtfSource::release() {
  if (memfd_ >= 0) ::close(memfd_);
  memfd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
}

BtfSource::~BtfSource() { release(); }

}  // namespace cnm::probe
