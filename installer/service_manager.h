// Which service manager drives the probe, and the commands for it. `none` installs files
// only (image builds, tests under --root); `auto` picks systemd when it is running, else the
// SysV `service` command, else none; a non-live --root always means none under auto, and an
// explicit systemd or sysv with one is a usage error (their commands act on this host).
#pragma once

#include <string>
#include <vector>

#include "common/layout.h"
#include "installer/apply.h"
#include "installer/plan.h"

namespace cnm {

enum class ServiceManager { Auto, Systemd, Sysv, None };

// How a SysV host enables a service at boot: chkconfig where it exists (RHEL, CentOS, Amazon
// Linux AMI), else Debian's update-rc.d. Looked up below the layout's root.
enum class SysvEnabler { UpdateRcD, Chkconfig };
SysvEnabler sysv_enabler(const Layout& layout);
std::vector<std::string> sysv_rc_dirs(SysvEnabler e);  // where its S links go
std::vector<std::string> sysv_enable_argv(SysvEnabler e, const std::string& service);
std::vector<std::string> sysv_disable_argv(SysvEnabler e, const std::string& service);

ServiceManager parse_service_manager(const std::string& s);  // throws std::invalid_argument
const char* to_string(ServiceManager m);
// The manager a run uses. Throws std::invalid_argument (exit 2) for systemd or sysv under a
// non-live --root: systemctl and service would act on this host's services, not the root's.
ServiceManager resolve(ServiceManager m, const Layout& layout);

struct ServiceState {
  bool unit_known = false;  // the manager knows the probe's service at all
  bool enabled = false;
  bool active = false;
  bool agent_present = false;
  // systemd hosts: the probe's init script has runlevel links ([SK]NN<service> in an rc
  // folder). systemctl enable and disable mirror a unit onto the same-named init script
  // (systemd-sysv-install: update-rc.d on Debian, chkconfig on RHEL), so enabling
  // cnm-probe.service leaves links that disable turns into K links and never removes.
  bool sysv_links = false;
  // systemd, beside the Agent: the Datadog installer's experiment of the Agent is running (its
  // <agent>-exp.service is active; stable and experiment units conflict, so restarting the
  // stable Agent would stop the experiment).
  bool agent_experiment = false;
};

ServiceState query_services(ServiceManager m, const Layout& layout, const CommandRunner& run);

// Why a run that would restart the Agent is refused while its experiment runs
// (ServiceState::agent_experiment), ending with `nothing_done` ("nothing was installed").
std::string agent_experiment_refusal(const Layout& layout, const std::string& nothing_done);

// Adds service steps to plan: reload (when a unit file changes), enable/start (or restart when
// files changed) the probe when the agent does not start it, restart the agent when present,
// and the undo steps.
void plan_services(Plan& plan, ServiceManager m, const Layout& layout, const ServiceState& now,
                   bool probe_start_needed, bool files_change, bool unit_files_change);

// Steps that stop the probe service and disable the services cnmkit enabled (`enabled`: the
// install's record) before uninstall restores the files; standalone on systemd, also the rc
// links of cnm-probe's init script (ServiceState::sysv_links), which uninstall takes away.
std::vector<ServiceStep> uninstall_services(ServiceManager m, const Layout& layout,
                                            const ServiceState& now,
                                            const std::vector<std::string>& enabled);

// After uninstall stopped the probe and restored the files: restart the agent, when there is
// one, so it re-reads the restored system-probe.yaml. Empty without an agent (or manager).
std::vector<ServiceStep> agent_restart_after_uninstall(ServiceManager m, const Layout& layout,
                                                       const ServiceState& now);

}  // namespace cnm
