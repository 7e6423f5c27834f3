#include "probe/btf_source.h"

#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

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
    // libbpf opens BTF files by path: the embedded bytes go to a memory file.
    const int fd = ::memfd_create("cnm-btf", MFD_CLOEXEC);
    std::size_t done = 0;
    while (fd >= 0 && done < bytes->size()) {
      const ssize_t w = ::write(fd, bytes->data() + done, bytes->size() - done);
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    if (fd >= 0 && done == bytes->size()) {
      s.kind_ = Kind::kEmbedded;
      s.memfd_ = fd;
      s.path_ = "/proc/self/fd/" + std::to_string(fd);
      s.text_ = "the embedded file for " + std::string(release);
      return s;
    }
    if (fd >= 0) ::close(fd);
  }
  s.text_ = "none: no kernel BTF (" + sysfs_btf.string() + "), no " +
            (folder.empty() ? file : (folder / file).string()) + ", and none embedded for " +
            std::string(release);
  return s;
}

BtfSource::BtfSource(BtfSource&& o) noexcept
    : kind_(o.kind_),
      path_(std::move(o.path_)),
      text_(std::move(o.text_)),
      memfd_(std::exchange(o.memfd_, -1)) {}

BtfSource& BtfSource::operator=(BtfSource&& o) noexcept {
  if (this != &o) {
    if (memfd_ >= 0) ::close(memfd_);
    kind_ = o.kind_;
    path_ = std::move(o.path_);
    text_ = std::move(o.text_);
    memfd_ = std::exchange(o.memfd_, -1);
  }
  return *this;
}

BtfSource::~BtfSource() {
  if (memfd_ >= 0) ::close(memfd_);
}

}  // namespace cnm::probe
