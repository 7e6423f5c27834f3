// cilium.compatible and istio.compatible: the seed's rules for hosts whose networking another
// eBPF user (Cilium) or a service mesh (Istio) already manages.
#include "checks/check.h"

namespace cnm {
namespace {

std::vector<std::string> cilium_evidence(const HostFacts& f) {
  std::vector<std::string> ev;
  for (const char* p : {"/usr/bin/cilium", "/usr/local/bin/cilium", "/usr/bin/cilium-dbg",
                        "/usr/local/bin/cilium-dbg", "/opt/cni/bin/cilium-cni"})
    if (f.fs.exists(p)) ev.push_back(p);
  for (const char* d : {"/sys/fs/bpf/tc/globals", "/sys/fs/bpf/cilium"}) {
    for (const auto& name : f.fs.list(d)) {
      if (name.starts_with("cilium_") || std::string(d).ends_with("cilium")) {
        ev.push_back(std::string("pinned maps under ") + d);
        break;
      }
    }
  }
  return ev;
}

// Cilium >= 1.6 with kernel >= 5.1.16, or >= 4.19.57 on a 4.19.x kernel.
bool kernel_fits_cilium(const KernelRelease& k) {
  if (k.major == 4 && k.minor == 19) return k.patch >= 57;
  return k.at_least(5, 1, 16);
}

CheckResult cilium(const HostFacts& f) {
  const auto ev = cilium_evidence(f);
  if (!f.options.cilium_version && ev.empty()) return pass("Cilium not detected");
  std::string found = f.options.cilium_version ? "Cilium " + *f.options.cilium_version
                                               : "Cilium (" + ev.front() + ")";
  const auto remedy = std::string(
      "use Cilium 1.6+ on a kernel 5.1.16+ (or 4.19.57+ on 4.19.x), or leave this host out");
  if (!f.kernel) return warn(found + ": cannot judge, the kernel release is unknown", remedy);
  const bool kernel_ok = kernel_fits_cilium(*f.kernel);
  CheckResult r;
  if (!f.options.cilium_version) {
    if (!kernel_ok) {
      r = fail(found + " on kernel " + f.kernel->raw +
                   ": CNM with Cilium needs kernel 5.1.16+ (4.19.57+ on 4.19.x)",
               remedy);
      r.features["cilium_compatible"] = false;
      return r;
    }
    return warn(found + ": its version is unknown; CNM needs Cilium 1.6+",
                "pass the version: cnmctl preflight --cilium-version \"$(cilium version "
                "--client | awk '{print $2; exit}')\"");
  }
  const auto v = Version::parse(*f.options.cilium_version);
  if (!v)
    return warn("cannot read Cilium version '" + *f.options.cilium_version + "'",
                "pass it as X.Y or X.Y.Z, e.g. --cilium-version 1.14.2");
  const bool version_ok = *v >= V("1.6");
  if (version_ok && kernel_ok) {
    r = pass(found + " on kernel " + f.kernel->raw + " is compatible");
  } else {
    std::string why;
    if (!version_ok) why = "Cilium older than 1.6";
    if (!kernel_ok)
      why += std::string(why.empty() ? "" : " and ") + "kernel " + f.kernel->raw +
             " below 5.1.16 (4.19.57 on 4.19.x)";
    r = fail(found + " is not compatible with CNM: " + why, remedy);
  }
  r.features["cilium_compatible"] = version_ok && kernel_ok;
  return r;
}

std::vector<std::string> istio_evidence(const HostFacts& f) {
  std::vector<std::string> ev;
  for (const char* p : {"/usr/local/bin/istioctl", "/usr/bin/istioctl",
                        "/usr/local/bin/pilot-agent", "/etc/istio", "/var/lib/istio"})
    if (f.fs.exists(p)) ev.push_back(p);
  return ev;
}

CheckResult istio(const HostFacts& f) {
  const auto ev = istio_evidence(f);
  if (ev.empty()) return pass("Istio not detected");
  const std::string found = "Istio detected (" + ev.front() + ")";
  if (f.agent_version && !agent_gates(*f.agent_version).istio_supported)
    return warn(found + " but the agent is " + f.agent_version->str() +
                    ": CNM over Istio needs agent 7.24.1+",
                "upgrade the Datadog Agent to 7.24.1 or later; Istio itself must be 1.6.4+");
  return warn(found +
                  ": CNM supports Istio 1.6.4+ with agent 7.24.1+; the Istio version "
                  "cannot be read from the host",
              "confirm with `istioctl version` that Istio is 1.6.4 or later");
}

}  // namespace

void add_network_stack_checks(std::vector<CheckDef>& out) {
  out.push_back({"cilium.compatible", cilium});
  out.push_back({"istio.compatible", istio});
}

}  // namespace cnm
