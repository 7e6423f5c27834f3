// container.host_access: when the preflight runs inside a container (as the probe would in a
// DaemonSet), the container needs the host's /proc, cgroups and PID namespace.
#include "checks/check.h"

namespace cnm {
namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : "; ") + e;
  return s;
}

// In the host's PID namespace the kernel thread kthreadd is PID 2 with parent 0.
bool host_pid_namespace(const HostFacts& f) {
  const auto st = f.fs.read("/proc/2/status", 4096);
  return st && st->text.find("Name:\tkthreadd") != std::string::npos;
}

CheckResult container_access(const HostFacts& f) {
  if (!f.fs.describes("/proc")) return skip("this root does not describe /proc");
  const auto& c = f.container;
  if (!c.in_container)
    return pass("not in a container" + (c.evidence.empty() ? "" : " (" + joined(c.evidence) + ")"));
  std::vector<std::string> missing, remedies;
  if (!f.fs.is_dir("/host/proc")) {
    missing.push_back("/host/proc is not mounted");
    remedies.push_back("-v /proc/:/host/proc/:ro");
  }
  if (!f.fs.is_dir("/sys/fs/cgroup")) {
    missing.push_back("/sys/fs/cgroup is not mounted");
    remedies.push_back("-v /sys/fs/cgroup/:/host/sys/fs/cgroup:ro");
  }
  if (!host_pid_namespace(f)) {
    missing.push_back("not in the host PID namespace");
    remedies.push_back("--pid host (Kubernetes: hostPID: true)");
  }
  if (!f.fs.is_dir("/sys/kernel/debug")) {
    missing.push_back("/sys/kernel/debug is not mounted");
    remedies.push_back("-v /sys/kernel/debug:/sys/kernel/debug");
  }
  const std::string where = "in a " + c.runtime + " container (" + joined(c.evidence) + ")";
  if (missing.empty()) return pass(where + " with host /proc, cgroups and PID namespace");
  return warn(where + ": " + joined(missing), "run the probe container with " + joined(remedies));
}

}  // namespace

void add_container_checks(std::vector<CheckDef>& out) {
  out.push_back({"container.host_access", container_access});
}

}  // namespace cnm
