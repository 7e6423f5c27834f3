// kernel.version: the seed's first rule. 4.4.0 or newer, or a RHEL/CentOS 7.6+ kernel
// (3.10.0-957 and later) where Red Hat backported eBPF; and not an Ubuntu kernel the Datadog
// Agent knows eBPF panics.
#include "checks/check.h"
#include "checks/kernel_code.h"

namespace cnm {
namespace {

constexpr std::uint32_t kRhel76Build = 957;

// Ubuntu kernels built on upstream 4.4.114 to 4.4.127: the Datadog Agent's network tracer
// refuses them, "using eBPF causes kernel panic" (datadog-agent pkg/network/tracer/
// utils_linux.go, IsTracerSupportedByOS; Launchpad bug 1763454). Both ends included.
bool in_panic_range(const KernelRelease& k) {
  return k.at_least(4, 4, 114) && !k.at_least(4, 4, 128);
}

std::optional<CheckResult> ubuntu_panic_kernel(const HostFacts& f) {
  const auto up = ubuntu_upstream(f);
  if (!up || !in_panic_range(*up)) return std::nullopt;
  return fail("kernel " + f.kernel->raw + " is built on Linux " + up->numeric() +
                  ", one of the Ubuntu kernels 4.4.114 to 4.4.127 where eBPF can panic the "
                  "kernel (Launchpad bug 1763454): the Datadog Agent's network tracer refuses "
                  "to load on them on Ubuntu, and no probe should run there",
              "update the kernel past 4.4.127 (apt-get update && apt-get install linux-generic, "
              "or the HWE kernel linux-generic-hwe-16.04) and reboot");
}

CheckResult kernel_version(const HostFacts& f) {
  if (!f.kernel) {
    return fail("cannot use kernel release '" + f.kernel_release + "': " + f.kernel_error,
                "give the release explicitly: cnmctl preflight --kernel-release \"$(uname -r)\"");
  }
  const auto& k = *f.kernel;
  if (k.at_least(4, 4, 0)) {
    if (auto bug = ubuntu_panic_kernel(f)) return std::move(*bug);
    return pass("kernel " + k.raw + " is 4.4.0 or newer (from " + f.kernel_source + ")");
  }
  if (f.rhel7_kernel()) {
    const auto build = k.build();
    if (build && *build >= kRhel76Build)
      return pass("kernel " + k.raw + " is a RHEL/CentOS 7.6+ kernel (build " +
                  std::to_string(*build) + " >= 957) with eBPF backported");
    if (!build)
      // A 3.10 kernel on RHEL/CentOS 7 without Red Hat's "-NNN" build (3.10.0-957.el7): not a
      // Red Hat kernel, or a release string cut short; either way no backport can be shown.
      return fail("kernel " + k.raw + " (from " + f.kernel_source +
                      ") is 3.10 without a Red Hat build number (as in 3.10.0-957.el7): "
                      "cannot tell it is a RHEL/CentOS 7.6+ kernel with eBPF backported, and "
                      "it is older than 4.4.0",
                  "check the running kernel with uname -r: boot a RHEL/CentOS 7.6+ kernel "
                  "(3.10.0-957 or later; yum update kernel && reboot) or a 4.4.0 or newer one");
    return fail("kernel " + k.raw + " is a RHEL/CentOS 7 kernel older than 7.6 (build " +
                    std::to_string(*build) + " < 957): eBPF is not backported",
                "update to RHEL/CentOS 7.6 or later and reboot: yum update kernel && reboot");
  }
  return fail("kernel " + k.raw + " is older than 4.4.0 and has no eBPF backport",
              "upgrade the kernel to 4.4.0 or newer (the distribution's HWE/backports kernel) "
              "and reboot");
}

}  // namespace

void add_kernel_checks(std::vector<CheckDef>& out) {
  out.push_back({"kernel.version", kernel_version});
}

}  // namespace cnm
