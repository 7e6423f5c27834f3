// Where the probe's CO-RE reads get the kernel's types (BTF). In this order, as Datadog's
// system-probe (pkg/ebpf/btf.go) looks: a file the operator names (system_probe_config.btf_path),
// the kernel's own (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF), a file for this kernel
// release in the BTF folder (<bpf_object_dir>/btf/<release>.btf, for operators to add), this
// release's file in the folder's BTF archive (btf_archive.h: a fleet's kernels in one file,
// `cnmctl install --btf-archive`), the minimized files the binary carries
// (probe/btf/make_btfs.sh). None: the probe cannot run.
//
// The kernel's file and the folder are looked up through a RootDir (common/root_dir.h): the
// live host's for the daemon, the --root folder's for the preflight, so a link in a host
// description never leads the lookup out of it. Only a regular file (after links, inside the
// root) counts; a dangling or looping link is none. A kernel release that holds '/' or ".."
// (read from a host file under --root) never names a file in the folder.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/root_dir.h"
#include "probe/bytes_path.h"

namespace cnm::probe {

class BtfSource {
 public:
  enum class Kind { kConfigured, kKernel, kFolder, kArchive, kEmbedded, kNone };

  // folder and sysfs_btf (where the kernel's own BTF is) are paths inside root, the live
  // host's root when none is given. archive: a BTF archive of this machine to look in instead
  // of the folder's own (folder/kBtfArchiveName): checked whole first, as the install checks
  // it, and missing is said. An archive that cannot be read is passed over (the description
  // says why when no later source has the file either).
  static BtfSource find(const std::string& configured, const std::filesystem::path& folder,
                        std::string_view kernel_release, const RootDir* root = nullptr,
                        std::string_view sysfs_btf = kSysfsBtf, std::string_view archive = {});
  static constexpr std::string_view kSysfsBtf = "/sys/kernel/btf/vmlinux";

  Kind kind() const { return kind_; }
  // The file for libbpf's btf_custom_path; "" for the kernel's own (libbpf finds it) or none.
  const std::string& libbpf_path() const { return embedded_ ? embedded_->path() : path_; }
  // "the kernel's (/sys/kernel/btf/vmlinux)", "file /etc/x.btf (system_probe_config.btf_path)",
  // "the embedded file for 5.10.0-46-amd64", "the file for 3.10.0-1160.el7.x86_64 in
  // /opt/cnmkit/ebpf/btf/minimized-btfs.tar", or why there is none.
  const std::string& description() const { return text_; }

 private:
  BtfSource() = default;
  Kind kind_ = Kind::kNone;
  std::string path_, text_;
  std::optional<BytesPath> embedded_;  // an embedded or archived file, for libbpf by path
};

// The running kernel's release (uname -r, common/uname.h).
std::string kernel_release();

// Whether a kernel release can name a file ("<release>.btf"): not empty, no '/', no "..".
bool release_is_file_name(std::string_view release);

}  // namespace cnm::probe
