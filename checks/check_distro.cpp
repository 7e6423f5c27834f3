// distro.supported and distro.dns_resolution: the seed's distribution table.
#include "checks/check.h"
#include "checks/preflight.h"
#include "common/printable.h"

namespace cnm {
namespace {

constexpr const char* kSupportedList =
    "Ubuntu 16.04+, Debian 9+, Fedora 26+, SUSE 15+, Amazon Linux AMI 2016.03+, "
    "Amazon Linux 2, CentOS/RHEL 7.6+";

std::string describe(const HostFacts& f) {
  std::string s = f.distro.name.empty() ? f.distro.id : f.distro.name;
  const std::string version = bounded_utf8(f.distro.version_id, kMaxNameBytes);
  if (!version.empty() && s.find(f.distro.version_id) == std::string::npos) s += " " + version;
  return bounded_utf8(s, kMaxNameBytes) + " (from " + f.distro.source + ")";
}

CheckResult distro_verdict(const HostFacts& f) {
  const auto& v = f.support;
  switch (v.support) {
    case Support::Supported:
      return pass(describe(f) + " is supported (" + v.family +
                  (v.minimum.empty() ? "" : " " + v.minimum + "+") + ")");
    case Support::Rolling:
      return pass(describe(f) + " is a rolling release of a supported distribution (" + v.family +
                  ")");
    case Support::BelowMinimum:
      return fail(describe(f) + " is below the supported minimum " + v.family + " " + v.minimum,
                  "upgrade to " + v.family + " " + v.minimum + " or later");
    case Support::VersionUnknown: {
      // CentOS 7 often says only "7"; a 7.6+ kernel build settles it.
      const auto build = f.kernel ? f.kernel->build() : std::nullopt;
      if (v.rhel7 && f.kernel && f.kernel->major == 3 && f.kernel->minor == 10 && build &&
          *build >= 957)
        return pass(describe(f) + ": minor release not stated, kernel build " +
                    std::to_string(*build) + " means 7.6 or later");
      return warn(
          describe(f) + ": cannot tell the version, the minimum is " + v.family + " " + v.minimum,
          "make sure the host runs " + v.family + " " + v.minimum +
              " or later (VERSION_ID in /etc/os-release)");
    }
    case Support::Unlisted: {
      std::string like;
      for (const auto& l : f.distro.id_like) like += (like.empty() ? " (like " : ", ") + l;
      if (!like.empty()) like += ")";
      return warn(describe(f) + like +
                      " is not on the supported list; the kernel checks decide whether the "
                      "probe can run",
                  std::string("prefer a supported distribution: ") + kSupportedList);
    }
    case Support::Unknown:
      break;
  }
  std::string why =
      "cannot identify the distribution: no usable /etc/os-release, "
      "/usr/lib/os-release or release file";
  return warn(why,
              "restore /etc/os-release (package base-files, or your distribution's "
              "*-release package)");
}

// The notes about the files read (too large, malformed lines, unreadable) follow the verdict's
// sentence, each a clause of its own.
CheckResult distro_supported(const HostFacts& f) {
  auto r = distro_verdict(f);
  for (const auto& n : f.distro.notes) r.message += "; " + n;
  return r;
}

// Not on CentOS/RHEL 7, nor on another distribution booting its 3.10 kernel (a rebuild's Red Hat
// compatible kernel, e.g. Oracle Linux 7's; its UEK is another kernel): the seed's rule is about
// that kernel's eBPF, not the name.
CheckResult distro_dns(const HostFacts& f) {
  const bool named_rhel7 = f.support.rhel7 && (f.distro.id == "centos" || f.distro.id == "rhel");
  if (named_rhel7 || f.rhel7_kernel()) {
    const bool other_distro = !named_rhel7;
    auto r = warn(other_distro ? "DNS resolution is not supported on a RHEL 7 kernel (" +
                                     f.kernel->raw + "): that feature stays off"
                               : "DNS resolution is not supported on CentOS/RHEL 7: that feature "
                                 "stays off",
                  other_distro ? "boot a 4.4 or newer kernel (Oracle Linux 7: its UEK kernel) or "
                                 "upgrade to an 8-family release to get DNS resolution"
                               : "upgrade to RHEL/CentOS 8 or later to get DNS resolution");
    r.features["dns_resolution"] = false;
    return r;
  }
  if (f.support.support == Support::Unknown) return skip("distribution unknown");
  return pass("DNS resolution is supported on this distribution");
}

}  // namespace

void add_distro_checks(std::vector<CheckDef>& out) {
  out.push_back({"distro.supported", distro_supported});
  out.push_back({"distro.dns_resolution", distro_dns});
}

}  // namespace cnm
