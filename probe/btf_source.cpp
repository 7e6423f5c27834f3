#include "probe/btf_source.h"

#include "common/uname.h"
#include "probe/embedded_files.h"

namespace cnm::probe {

std::string kernel_release() { return running_uname().release; }

bool release_is_file_name(std::string_view release) {
  return !release.empty() && release.find('/') == std::string_view::npos &&
         release.find("..") == std::string_view::npos &&
         release.find('\0') == std::string_view::npos;
}

BtfSource BtfSource::find(const std::string& configured, const std::filesystem::path& folder,
                          std::string_view release, const RootDir* root,
                          std::string_view sysfs_btf) {
  std::optional<RootDir> live;
  if (!root) root = &live.emplace("/");
  BtfSource s;
  if (!configured.empty()) {
    s.kind_ = Kind::kConfigured;
    s.path_ = configured;
    s.text_ = "file " + configured + " (system_probe_config.btf_path)";
    return s;
  }
  const std::string sysfs_shown = root->display(sysfs_btf).string();
  if (root->is_file(sysfs_btf)) {  // sysfs files are regular
    s.kind_ = Kind::kKernel;
    s.text_ = "the kernel's (" + sysfs_shown + ")";
    return s;
  }
  const bool named = release_is_file_name(release);
  const std::string file = std::string(release) + ".btf";
  const std::string in_folder = (folder / file).string();
  if (named && !folder.empty() && root->is_file(in_folder)) {
    s.kind_ = Kind::kFolder;
    // libbpf opens it by this path: only on the live host is it the file found here.
    s.path_ = root->display(in_folder).string();
    s.text_ = "file " + s.path_;
    return s;
  }
  if (const auto bytes = named ? embedded_btf(release) : std::nullopt) {
    if ((s.embedded_ = BytesPath::hold(*bytes, "cnm-btf"))) {
      s.kind_ = Kind::kEmbedded;
      s.text_ = "the embedded file for " + std::string(release);
      return s;
    }
  }
  if (!named) {
    s.text_ = "none: no kernel BTF (" + sysfs_shown + "), and the kernel release \"" +
              std::string(release) + "\" names no BTF file";
    return s;
  }
  s.text_ = "none: no kernel BTF (" + sysfs_shown + "), no " +
            (folder.empty() ? file : root->display(in_folder).string()) +
            ", and none embedded for " + std::string(release);
  return s;
}

}  // namespace cnm::probe
