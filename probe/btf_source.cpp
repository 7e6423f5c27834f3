#include "probe/btf_source.h"

#include <sys/utsname.h>

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
    if ((s.embedded_ = BytesPath::hold(*bytes, "cnm-btf"))) {
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

}  // namespace cnm::probe
