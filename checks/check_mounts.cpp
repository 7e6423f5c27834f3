// mounts.debugfs, mounts.tracefs, mounts.bpffs, mounts.cgroup2: the pseudo file systems the
// probe uses. None is fatal on its own (the probe can mount tracefs itself, and libbpf attaches
// tracepoints through perf), so each is a warning with the mount command that fixes it.
#include "checks/check.h"
#include "common/mounts.h"

namespace cnm {
namespace {

std::optional<Mount> find(const std::vector<Mount>& ms, const std::string& type,
                          std::initializer_list<const char*> dirs) {
  std::optional<Mount> found;
  for (const auto& m : ms) {
    if (m.type != type) continue;
    if (dirs.size() == 0) return m;
    for (const char* d : dirs)
      if (m.dir == d) found = m;
  }
  return found;
}

template <typename Decide>
CheckResult with_mounts(const HostFacts& f, Decide decide) {
  std::string why;
  const auto ms = read_mounts(f.fs, &why);
  if (!ms) {
    if (why.find(" is missing") != std::string::npos)
      return skip("this root has no mount table (proc/self/mountinfo)");
    return skip("cannot read the mount table: " + why);
  }
  return decide(*ms);
}

CheckResult debugfs(const HostFacts& f) {
  return with_mounts(f, [](const std::vector<Mount>& ms) {
    if (find(ms, "debugfs", {"/sys/kernel/debug"}))
      return pass("debugfs mounted at /sys/kernel/debug");
    return warn(
        "debugfs is not mounted at /sys/kernel/debug: agents that attach kprobes "
        "through debugfs cannot",
        "mount -t debugfs none /sys/kernel/debug  (and in /etc/fstab: "
        "debugfs /sys/kernel/debug debugfs defaults 0 0)");
  });
}

CheckResult tracefs(const HostFacts& f) {
  return with_mounts(f, [&f](const std::vector<Mount>& ms) {
    if (auto m = find(ms, "tracefs", {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}))
      return pass("tracefs mounted at " + m->dir);
    const bool debugfs = find(ms, "debugfs", {"/sys/kernel/debug"}).has_value();
    if (!kernel_has_tracefs(f))
      return debugfs ? pass(
                           "tracing is debugfs's /sys/kernel/debug/tracing (this kernel predates "
                           "tracefs, Linux 4.1)")
                     : warn(
                           "debugfs is not mounted, and with it tracing (this kernel predates "
                           "tracefs, Linux 4.1): tracepoints and kprobes cannot be attached",
                           tracing_mount_remedy(f));
    // Linux 4.1+ mounts tracefs at debugfs's tracing folder on first use.
    if (debugfs) return pass("tracefs is reached through debugfs (/sys/kernel/debug/tracing)");
    return warn("tracefs is not mounted: tracepoints cannot be attached by name until it is",
                tracing_mount_remedy(f));
  });
}

CheckResult bpffs(const HostFacts& f) {
  return with_mounts(f, [](const std::vector<Mount>& ms) {
    if (auto m = find(ms, "bpf", {})) return pass("bpf filesystem mounted at " + m->dir);
    return warn("the bpf filesystem is not mounted: maps cannot be pinned across probe restarts",
                "mount -t bpf bpf /sys/fs/bpf");
  });
}

CheckResult cgroup2(const HostFacts& f) {
  return with_mounts(f, [&f](const std::vector<Mount>& ms) {
    // The probe walks and attaches to the hierarchy's root (CgroupPaths, the DNS programs), so
    // a bind mount of a subtree (a container's view) is not enough.
    if (const Mount* m = find_whole_mount(ms, "cgroup2"))
      return pass("cgroup v2 mounted at " + m->dir +
                  (m->dir == "/sys/fs/cgroup" ? "" : " (hybrid hierarchy)"));
    if (auto m = find(ms, "cgroup2", {}))
      return warn("cgroup v2 is mounted at " + m->dir + " only as its subtree " + m->root +
                      ": the probe needs the hierarchy's root (container ids come from /proc "
                      "only, DNS from the packet socket)",
                  "mount -t cgroup2 none /sys/fs/cgroup/unified");
    // cgroup2 is Linux 4.5 (commit 67e9c74b8a87, "cgroup: replace __DEVEL__sane_behavior with
    // cgroup2 fs type"): RHEL/CentOS 7's 3.10 has none to mount.
    if (f.kernel && !f.kernel->at_least(4, 5, 0))
      return warn(
          "no cgroup v2 on this kernel (Linux 4.5+): container ids come from cgroup v1 "
          "paths only, DNS monitoring from the packet socket",
          "nothing to mount here; a 4.5+ kernel brings cgroup v2");
    // The boot option needs systemd 230+ (its unified hierarchy); Amazon Linux 2's 219 ignores
    // it, while the mount works on any 4.5+ kernel.
    return warn("no cgroup v2 hierarchy: container ids come from cgroup v1 paths only",
                "mount -t cgroup2 none /sys/fs/cgroup/unified, or (systemd 230+) boot with "
                "systemd.unified_cgroup_hierarchy=1");
  });
}

}  // namespace

bool kernel_has_tracefs(const HostFacts& f) { return !f.kernel || f.kernel->at_least(4, 1, 0); }

std::string tracing_mount_remedy(const HostFacts& f) {
  if (!kernel_has_tracefs(f))
    return "mount -t debugfs none /sys/kernel/debug  (and in /etc/fstab: debugfs "
           "/sys/kernel/debug debugfs defaults 0 0); tracing is its tracing folder";
  return "mount -t tracefs nodev /sys/kernel/tracing  (and in /etc/fstab: tracefs "
         "/sys/kernel/tracing tracefs defaults 0 0)";
}

void add_mount_checks(std::vector<CheckDef>& out) {
  out.push_back({"mounts.debugfs", debugfs});
  out.push_back({"mounts.tracefs", tracefs});
  out.push_back({"mounts.bpffs", bpffs});
  out.push_back({"mounts.cgroup2", cgroup2});
}

}  // namespace cnm
