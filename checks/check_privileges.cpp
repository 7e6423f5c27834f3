// limits.memlock and privileges.capabilities: what the probe process needs from the kernel's
// accounting and from its capability set. Both describe this process; the service that runs
// the probe gets its own (its unit sets LimitMEMLOCK and the capabilities), hence warnings.
#include <linux/capability.h>
#include <sys/resource.h>

#include "checks/bpf_probe.h"
#include "checks/check.h"

namespace cnm {
namespace {

constexpr const char* kLiveOnly = "checked on the live host only (not under --root)";
constexpr rlim_t kMemlockNeeded = 64ull << 20;  // what the probe's maps need at defaults

CheckResult memlock(const HostFacts& f) {
  if (!f.fs.is_live()) return skip(kLiveOnly);
  if (f.kernel && f.kernel->at_least(5, 11, 0))
    return pass("kernel 5.11+ accounts BPF memory to the cgroup: RLIMIT_MEMLOCK does not apply");
  const rlimit rl = memlock_at_start();  // as found, before any bpf() call raised it
  if (rl.rlim_cur == RLIM_INFINITY) return pass("RLIMIT_MEMLOCK is unlimited");
  if (rl.rlim_cur >= kMemlockNeeded)
    return pass("RLIMIT_MEMLOCK is " + std::to_string(rl.rlim_cur >> 20) + " MiB");
  return warn("RLIMIT_MEMLOCK is " + std::to_string(rl.rlim_cur >> 10) +
                  " KiB and this kernel (< 5.11) charges BPF maps to it: map creation fails",
              "set LimitMEMLOCK=infinity in the probe's unit (or ulimit -l unlimited), or grant "
              "CAP_SYS_RESOURCE");
}

struct Cap {
  int id;
  const char* name;
};

CheckResult capabilities(const HostFacts& f) {
  if (!f.fs.is_live()) return skip(kLiveOnly);
  // The seed's container example grants these; CAP_BPF + CAP_PERFMON (5.8+) replace SYS_ADMIN
  // for loading tracing programs.
  const Cap common[] = {{CAP_SYS_RESOURCE, "SYS_RESOURCE"},
                        {CAP_SYS_PTRACE, "SYS_PTRACE"},
                        {CAP_NET_ADMIN, "NET_ADMIN"},
                        {CAP_NET_BROADCAST, "NET_BROADCAST"},
                        {CAP_NET_RAW, "NET_RAW"},
                        {CAP_IPC_LOCK, "IPC_LOCK"},
                        {CAP_CHOWN, "CHOWN"}};
  std::string missing;
  for (const auto& c : common)
    if (!has_capability(c.id)) missing += (missing.empty() ? "" : ", ") + std::string(c.name);
  const bool fine_grained = f.kernel && f.kernel->at_least(5, 8, 0) && has_capability(CAP_BPF) &&
                            has_capability(CAP_PERFMON);
  const bool bpf_ok = has_capability(CAP_SYS_ADMIN) || fine_grained;
  if (!bpf_ok)
    missing = "SYS_ADMIN (or BPF+PERFMON on 5.8+)" + (missing.empty() ? "" : ", " + missing);
  if (missing.empty())
    return pass(
        std::string("this process holds the capabilities the probe needs") +
        (fine_grained && !has_capability(CAP_SYS_ADMIN) ? " (via CAP_BPF+CAP_PERFMON)" : ""));
  return warn("this process lacks capabilities the probe needs: " + missing,
              "run the probe as root, or grant them (docker: --cap-add " + missing +
                  "; systemd: AmbientCapabilities=)");
}

}  // namespace

void add_privilege_checks(std::vector<CheckDef>& out) {
  out.push_back({"limits.memlock", memlock});
  out.push_back({"privileges.capabilities", capabilities});
}

}  // namespace cnm
