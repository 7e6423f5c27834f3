// kernel.lockdown, security.selinux, security.apparmor: the kernel's own restrictions on what
// an eBPF probe may do.
#include <optional>

#include "checks/check.h"
#include "selinux/status.h"
#include "selinux/store_location.h"

namespace cnm {
namespace {

CheckResult lockdown(const HostFacts& f) {
  if (!f.fs.describes("/sys/kernel")) return skip("this root does not describe /sys/kernel");
  // Never fails open: confidentiality makes the probe impossible, so a file that cannot be read
  // (unreadable, a FIFO) or absent because securityfs is not mounted is "cannot tell", not
  // "not active". Only a mounted securityfs without the file (no lockdown LSM, before 5.4 or
  // CONFIG_SECURITY_LOCKDOWN_LSM unset) says lockdown is off.
  constexpr std::size_t kMax = 256;
  const char* const path = "/sys/kernel/security/lockdown";
  const auto t = f.fs.read_file(path, kMax);
  if (t.status == ReadStatus::Absent) {
    if (!f.fs.list("/sys/kernel/security").empty())
      return pass("kernel lockdown is not active (securityfs has no lockdown file)");
    if (!f.fs.is_live())
      return skip("this root does not describe /sys/kernel/security (securityfs)");
    return warn(
        "cannot tell the kernel lockdown mode: securityfs is not mounted on /sys/kernel/security "
        "(or cannot be listed)",
        "mount -t securityfs securityfs /sys/kernel/security, then rerun the preflight as root");
  }
  if (!t.ok())
    return warn("cannot tell the kernel lockdown mode: " + f.fs.path(path).string() + " " +
                    describe_unread(t, kMax),
                "run the preflight as root, or check `cat /sys/kernel/security/lockdown`");
  // "none [integrity] confidentiality": the bracketed word is in force.
  const auto& s = t.text;
  const auto a = s.find('['), b = s.find(']');
  const std::string mode = (a != std::string::npos && b > a) ? s.substr(a + 1, b - a - 1) : "";
  if (mode == "none" || mode.empty()) return pass("kernel lockdown: none");
  if (mode == "integrity")
    return pass("kernel lockdown: integrity (reading kernel memory from eBPF is still allowed)");
  if (mode == "confidentiality")
    return fail(
        "kernel lockdown is 'confidentiality': eBPF programs may not read kernel "
        "memory, so the probe cannot run",
        "boot with lockdown=integrity (or none): edit the kernel command line, or "
        "disable Secure Boot's lockdown enforcement");
  return warn("unknown kernel lockdown mode '" + mode + "'", "cat /sys/kernel/security/lockdown");
}

// How SELinux will treat the probe: now (enforcing), or after the next boot (off in the running
// kernel, configured enforcing or permissive): the words each finding starts and ends with.
struct SelinuxWhen {
  std::string state;        // "SELinux is enforcing"
  std::string effect;       // what a missing module costs the probe
  std::string install_fix;  // the command that installs the module
  std::string held;         // "loaded" (in force now) or "installed" (for the next boot)
};

// What stands between the module and the probe: a store `cnmctl selinux install` refuses (say
// why, not only that the module is missing), a store this user cannot read, the module not
// installed. nullopt when the module is installed.
std::optional<CheckResult> module_problem(const selinux::Status& s, const std::string& module,
                                          const SelinuxWhen& when) {
  if (!s.store.problem.empty() && !s.module_installed)
    return warn(when.state + " and the " + module +
                    " module cannot be installed: " + s.store.problem + ": " + when.effect,
                "fix the file the message names (" + std::string(selinux::kSemanageConf) +
                    ": a regular, readable file with a non-empty store-root, as libsemanage "
                    "reads it; /etc/selinux/config: a policy name in SELINUXTYPE=), then " +
                    when.install_fix);
  if (!s.store_readable)
    return warn(when.state + " and the policy store " + s.store.path +
                    " cannot be read by this user: whether " + module + " is " + when.held +
                    " is unknown",
                "run the preflight as root");
  if (!s.module_installed)
    return warn(
        when.state + " and the " + module + " module is not " + when.held + ": " + when.effect,
        when.install_fix);
  return std::nullopt;
}

// Off in the running kernel but `SELINUX=enforcing` in /etc/selinux/config: in force at the
// next boot with SELinux on (on Debian the kernel command line must also say so:
// selinux-activate), when the module must be in the store and the probe's binary labelled.
// Files written while SELinux is off carry no label; `cnmctl selinux install` labels the binary
// all the same (it sets the attribute itself).
CheckResult selinux_next_boot(const HostFacts& f, const selinux::Status& s) {
  const std::string module = f.layout.selinux_module;
  const SelinuxWhen when{
      "SELinux is off in the running kernel but /etc/selinux/config sets "
      "'enforcing' for a boot with SELinux on",
      "the probe's bpf() calls will be denied after that boot",
      "cnmctl selinux install  (installs " + module + " for that boot)", "installed"};
  if (auto problem = module_problem(s, module, when)) return *problem;
  if (!f.fs.exists(f.layout.probe_binary))
    return pass(when.state + "; " + module + " is installed (" + f.layout.probe_binary +
                " is not there yet: installing it labels it)");
  if (s.binary_labeled.value_or(false))
    return pass(when.state + "; " + module + " is installed and " + f.layout.probe_binary +
                " labelled " + f.layout.selinux_type);
  return warn(when.state + "; " + module + " is installed, but " + f.layout.probe_binary +
                  (s.binary_context.empty()
                       ? " carries no SELinux label (files written while SELinux is off get none)"
                       : " is labelled " + s.binary_context + ", not " + f.layout.selinux_type),
              "cnmctl selinux install  (labels it, with SELinux off too)");
}

CheckResult selinux_enforcing(const HostFacts& f, const selinux::Status& s) {
  const std::string module = f.layout.selinux_module;
  const SelinuxWhen when{"SELinux is enforcing", "the probe's bpf() calls will be denied",
                         "cnmctl selinux install", "loaded"};
  if (auto problem = module_problem(s, module, when)) return *problem;
  if (s.binary_labeled.has_value() && !*s.binary_labeled)
    return warn("SELinux is enforcing and " + module + " is loaded, but " + f.layout.probe_binary +
                    " is labelled " + s.binary_context + ", not " + f.layout.selinux_type,
                "cnmctl selinux install  (adds the fcontext rule and relabels)");
  return pass("SELinux is enforcing; " + module + " is loaded" +
              (s.module_version.empty() ? "" : " (version " + s.module_version + ")"));
}

CheckResult selinux_check(const HostFacts& f) {
  if (!f.fs.describes("/sys") && !f.fs.describes("/etc/selinux"))
    return skip("this root describes neither /sys nor /etc/selinux");
  const auto s = selinux::read_status(f.layout);
  if (s.mode == "disabled") {
    if (s.store.config_mode == "enforcing") return selinux_next_boot(f, s);
    if (s.store.config_mode == "permissive")
      return pass(
          "SELinux is off in the running kernel; /etc/selinux/config sets 'permissive' for a "
          "boot with SELinux on: denials would be logged, not enforced");
    return pass("SELinux is disabled");
  }
  if (s.mode == "permissive")
    return pass("SELinux is permissive: denials are logged, not enforced");
  return selinux_enforcing(f, s);
}

CheckResult apparmor(const HostFacts& f) {
  if (!f.fs.describes("/sys")) return skip("this root does not describe /sys");
  const auto enabled = f.fs.read("/sys/module/apparmor/parameters/enabled", 16);
  if (!enabled || first_line(enabled->text) != "Y") return pass("AppArmor is not enabled");
  const auto profiles = f.fs.read("/sys/kernel/security/apparmor/profiles", 1024 * 1024);
  if (profiles) {
    // Lines are "NAME (MODE)".
    std::string confined;
    for_each_line(profiles->text, [&](std::string_view line) {
      if (confined.empty() && line.find("system-probe") != std::string_view::npos &&
          line.find("(enforce)") != std::string_view::npos)
        confined = std::string(line);
    });
    if (!confined.empty())
      return warn("AppArmor enforces a profile on the probe: " + confined,
                  "allow bpf and perf_event in that profile, or set it to complain mode: "
                  "aa-complain <profile>; on Kubernetes < 1.30 annotate "
                  "container.apparmor.security.beta.kubernetes.io/system-probe: unconfined");
  }
  return pass("AppArmor is enabled; no profile confines the probe");
}

}  // namespace

void add_security_checks(std::vector<CheckDef>& out) {
  out.push_back({"kernel.lockdown", lockdown});
  out.push_back({"security.selinux", selinux_check});
  out.push_back({"security.apparmor", apparmor});
}

}  // namespace cnm
