// The kernel version a program compiled against the running kernel sees: its LINUX_VERSION_CODE.
// What the Datadog Agent's system-probe compares with its exclusion lists (kernel.HostVersion:
// cilium/ebpf's features.LinuxVersionCode, read from the "Linux" note of the vDSO the kernel
// maps into every process, else uname's release). Distributions' releases do not say it: Debian's
// 6.1.0-13-amd64 is 6.1.55 there, Ubuntu's 4.4.0-119-generic 4.4.114.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "checks/host_facts.h"

namespace cnm {

struct VersionCode {
  std::uint32_t major = 0, minor = 0, patch = 0;  // patch capped at 255, as the code holds it
  std::string source;                             // where it was read

  bool operator==(const VersionCode& o) const {
    return major == o.major && minor == o.minor && patch == o.patch;
  }
  std::string text() const;  // "6.1.55"
  bool is_zero() const { return major == 0 && minor == 0 && patch == 0; }
};

// LINUX_VERSION_CODE of this process's kernel, from its vDSO; nullopt when it has none.
std::optional<std::uint32_t> vdso_version_code();

// The upstream version of the release an Ubuntu kernel is built on, from /proc/version_signature
// where that file describes the release judged (any distribution booting Ubuntu's kernel); else,
// on Ubuntu, the release's own numbers when they are not Ubuntu's x.y.0 ABI form. nullopt: unknown.
std::optional<KernelRelease> ubuntu_upstream(const HostFacts& f);

// The judged kernel's version code: the vDSO's on the live host judging its running kernel
// (nullopt when it cannot be read: the Agent reads nothing else there); else Ubuntu's upstream
// version (ubuntu_upstream), Debian's ("Debian 6.1.55-1" in /proc/version where it describes
// the release judged), or the release's numbers, clamped as the kernel clamps them; nullopt on
// Ubuntu when none says it, or without a release.
std::optional<VersionCode> linux_version_code(const HostFacts& f);

// An entry of an Agent exclusion list as its kernel.ParseVersion reads it: Go's
// fmt.Sscanf(entry, "%d.%d.%d") into three bytes, its error ignored, so the numbers read before
// the first error stay and the others are 0 ("5.10" is 5.10.0, "4.4.302" 4.4.0: 302 overflows a
// byte; "+5.10.0" 0.0.0). Version 0.0.0 matches no kernel.
VersionCode parse_version_entry(const std::string& entry);

}  // namespace cnm
