// kernel.version: the seed's first rule. 4.4.0 or newer, or a RHEL/CentOS 7.6+ kernel
// (3.10.0-957 and later) where Red Hat backported eBPF.
#include "checks/check.h"

namespace cnm {
namespace {

constexpr std::uint32_t kRhel76Build = 957;

CheckResult kernel_version(const HostFacts& f) {
  if (!f.kernel) {
    return fail("cannot use kernel release '" + f.kernel_release + "': " + f.kernel_error,
                "give the release explicitly: cnmctl preflight --kernel-release \"$(uname -r)\"");
  }
  const auto& k = *f.kernel;
  if (k.at_least(4, 4, 0))
    return pass("kernel " + k.raw + " is 4.4.0 or newer (from " + f.kernel_source + ")");
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
