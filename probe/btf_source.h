// Where the probe's CO-RE reads get the kernel's types (BTF). In this order, as Datadog's
// system-probe (pkg/ebpf/btf.go) looks: a file the operator names (system_probe_config.btf_path),
// the kernel's own (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF), a file for this kernel
// release in the BTF folder (<bpf_object_dir>/btf/<release>.btf, for operators to add), the
// minimized files the binary carries (probe/btf/make_btfs.sh). None: the probe cannot run.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace cnm::probe {

class BtfSource {
 public:
  enum class Kind { kConfigured, kKernel, kFolder, kEmbedded, kNone };

  // sysfs_btf: where the kernel's own BTF is (the live host's by default).
  static BtfSource find(const std::string& configured, const std::filesystem::path& folder,
                        std::string_view kernel_release,
                        const std::filesystem::path& sysfs_btf = "/sys/kernel/btf/vmlinux");
  BtfSource(BtfSource&& o) noexcept;
  BtfSource& operator=(BtfSource&& o) noexcept;
  ~BtfSource();

  Kind kind() const { return kind_; }
  // The file for libbpf's btf_custom_path; "" for the kernel's own (libbpf finds it) or none.
  const std::string& libbpf_path() const { return path_; }
  // "the kernel's (/sys/kernel/btf/vmlinux)", "file /etc/x.btf (system_probe_config.btf_path)",
  // "the embedded file for 5.10.0-46-amd64", or why there is none.
  const std::string& description() const { return text_; }

 private:
  BtfSource() = default;
  bool hand_over(std::span<const std::byte> bytes);  // the embedded bytes to a path libbpf can open
  void release();
  Kind kind_ = Kind::kNone;
  std::string path_, text_;
  int memfd_ = -1;         // holds an embedded file for libbpf to open by path
  std::string temp_path_;  // or a temp file does (no /proc, no memfd_create), removed at the end
};

// The running kernel's release (uname -r).
std::string kernel_release();

}  // namespace cnm::probe
