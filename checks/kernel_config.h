// The kernel's build configuration as a host keeps it: /boot/config-<release> (Debian, Ubuntu,
// RHEL, SUSE and Amazon Linux install it beside the kernel), else /proc/config.gz
// (CONFIG_IKCONFIG_PROC: the running kernel's own, on hosts that ship no /boot config, e.g.
// Arch, Container-Optimized OS, many cloud and custom kernels). Under --root both are the root's
// files; /proc/config.gz counts only for the root's own running kernel (the release read from
// its proc/sys/kernel/osrelease), never for another release named by --kernel-release.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/host_fs.h"

namespace cnm {

struct KernelConfig {
  std::string text;
  std::string source;  // the file it came from, for messages: "/boot/config-5.10.0-46-amd64"
};

// Release's configuration in the host tree fs: its /boot file, else /proc/config.gz when
// `release_runs_there` (the release is the tree's running one, not another named by
// --kernel-release). Read bounded: 1 MiB of /boot config, 1 MiB of gzip unpacking to at most
// 8 MiB (a real one is ~250 KB). nullopt when neither is there, readable and whole (a cut,
// corrupt or oversized config.gz is none). The preflight reads it once (HostFacts).
std::optional<KernelConfig> read_kernel_config(const HostFs& fs, const std::string& release,
                                               bool release_runs_there);

// Whether the config says option is unset: its last line for it is "# X is not set" or "X=n".
bool config_unsets(std::string_view config, std::string_view option);

// The gzip stream `bytes` unpacked whole, or nullopt when it is not one intact stream or
// unpacks to more than max_out bytes.
std::optional<std::string> gunzip_bounded(std::string_view bytes, std::size_t max_out);

}  // namespace cnm
