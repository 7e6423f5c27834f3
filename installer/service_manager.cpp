#include "installer/service_manager.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>

#include "common/root_dir.h"
#include "installer/health.h"

namespace cnm {
namespace {

bool on_path(const char* tool) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
    if (::access((std::string(dir) + tool).c_str(), X_OK) == 0) return true;
  return false;
}

std::string unit(const std::string& service) { return service + ".service"; }

// A runlevel link of `service`: one of `kinds` ('S', 'K'), two digits, the service's name
// (what update-rc.d, insserv and chkconfig write).
bool is_rc_link(const std::string& name, const std::string& service, std::string_view kinds) {
  return name.size() == service.size() + 3 && kinds.find(name[0]) != std::string_view::npos &&
         std::isdigit(static_cast<unsigned char>(name[1])) &&
         std::isdigit(static_cast<unsigned char>(name[2])) &&
         name.compare(3, std::string::npos, service) == 0;
}

// True when one of `rc_dirs` holds a link of the probe's init script of one of `kinds`.
bool has_rc_link(const Layout& layout, const std::vector<std::string>& rc_dirs,
                 std::string_view kinds) {
  const RootDir root(layout.root);
  for (const auto& dir : rc_dirs)
    for (const auto& name : root.list(dir))
      if (is_rc_link(name, layout.probe_service, kinds)) return true;
  return false;
}

// Every rc folder of either family (Debian's /etc/rcN.d, RHEL's /etc/rc.d/rcN.d).
std::vector<std::string> all_rc_dirs() {
  std::vector<std::string> out;
  for (const char* parent : {"/etc/rc", "/etc/rc.d/rc"})
    for (const char level : std::string_view("0123456S"))
      out.push_back(std::string(parent) + level + ".d");
  return out;
}

}  // namespace

SysvEnabler sysv_enabler(const Layout& layout) {
  const RootDir root(layout.root);
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    struct stat st {};
    if (root.stat(std::string(dir) + "chkconfig", st) && S_ISREG(st.st_mode) && (st.st_mode & 0111))
      return SysvEnabler::Chkconfig;
  }
  return SysvEnabler::UpdateRcD;
}

std::vector<std::string> sysv_rc_dirs(SysvEnabler e) {
  // RHEL / Amazon Linux AMI keep the runlevel links in /etc/rc.d/rcN.d (/etc/rcN.d links
  // there); Debian's default runlevel is 2.
  if (e == SysvEnabler::Chkconfig) return {"/etc/rc.d/rc3.d", "/etc/rc3.d"};
  return {"/etc/rc2.d"};
}

std::vector<std::string> sysv_enable_argv(SysvEnabler e, const std::string& service) {
  if (e == SysvEnabler::Chkconfig) return {"chkconfig", "--add", service};
  return {"update-rc.d", service, "defaults"};
}

std::vector<std::string> sysv_disable_argv(SysvEnabler e, const std::string& service) {
  if (e == SysvEnabler::Chkconfig) return {"chkconfig", "--del", service};
  return {"update-rc.d", "-f", service, "remove"};
}

ServiceManager parse_service_manager(const std::string& s) {
  if (s == "auto") return ServiceManager::Auto;
  if (s == "systemd") return ServiceManager::Systemd;
  if (s == "sysv") return ServiceManager::Sysv;
  if (s == "none") return ServiceManager::None;
  throw std::invalid_argument("--service-manager: auto, systemd, sysv or none, not '" + s + "'");
}

const char* to_string(ServiceManager m) {
  switch (m) {
    case ServiceManager::Auto:
      return "auto";
    case ServiceManager::Systemd:
      return "systemd";
    case ServiceManager::Sysv:
      return "sysv";
    case ServiceManager::None:
      return "none";
  }
  return "none";
}

ServiceManager resolve(ServiceManager m, const Layout& layout) {
  // systemctl and service act on the services of the host cnmctl runs on, never on a root's:
  // under --root they would enable, restart and (on rollback) stop this host's units while the
  // files went into the root. Refused before anything is written.
  if ((m == ServiceManager::Systemd || m == ServiceManager::Sysv) && !layout.is_live())
    throw std::invalid_argument(
        std::string("--service-manager ") + to_string(m) + " with --root " + layout.root.string() +
        ": the services under --root are the root's, which this host's " +
        (m == ServiceManager::Systemd ? "systemd" : "`service`") +
        " does not run; use --service-manager none (auto means none under --root)");
  if (m != ServiceManager::Auto) return m;
  if (!layout.is_live()) return ServiceManager::None;
  std::error_code ec;
  // sd_booted()'s test: systemd is PID 1 when /run/systemd/system exists.
  if (std::filesystem::is_directory("/run/systemd/system", ec) && on_path("systemctl"))
    return ServiceManager::Systemd;
  if (on_path("service")) return ServiceManager::Sysv;
  return ServiceManager::None;
}

ServiceState query_services(ServiceManager m, const Layout& layout, const CommandRunner& run) {
  ServiceState s;
  std::string out;
  if (m == ServiceManager::Systemd) {
    s.unit_known = run({"systemctl", "cat", unit(layout.probe_service)}, &out) == 0;
    s.enabled = run({"systemctl", "is-enabled", "--quiet", unit(layout.probe_service)}, &out) == 0;
    s.active = run({"systemctl", "is-active", "--quiet", unit(layout.probe_service)}, &out) == 0;
    s.agent_present = !layout.agent_service.empty() &&
                      run({"systemctl", "cat", unit(layout.agent_service)}, &out) == 0;
    s.agent_experiment =
        s.agent_present &&
        run({"systemctl", "is-active", "--quiet", unit(layout.agent_service + "-exp")}, &out) == 0;
    s.sysv_links = has_rc_link(layout, all_rc_dirs(), "SK");
  } else if (m == ServiceManager::Sysv) {
    const RootDir root(layout.root);
    s.unit_known = root.exists(layout.sysv_init_dir + "/" + layout.probe_service);
    // Boot enablement is an S link in the default runlevel (what update-rc.d / chkconfig make).
    s.enabled = has_rc_link(layout, sysv_rc_dirs(sysv_enabler(layout)), "S");
    s.active = s.unit_known && run({"service", layout.probe_service, "status"}, &out) == 0;
    s.agent_present = !layout.agent_service.empty() &&
                      root.exists(layout.sysv_init_dir + "/" + layout.agent_service);
  }
  return s;
}

std::string agent_experiment_refusal(const Layout& layout, const std::string& nothing_done) {
  return "the Datadog installer's experiment of the Agent is running (" + layout.agent_service +
         "-exp.service is active): restarting " + layout.agent_service +
         ".service would stop it; promote or stop the experiment (datadog-installer), then run "
         "again; " +
         nothing_done;
}

void plan_services(Plan& plan, ServiceManager m, const Layout& layout, const ServiceState& now,
                   bool probe_start_needed, bool files_change, bool unit_files_change) {
  const std::string probe = layout.probe_service, agent = layout.agent_service;
  if (m == ServiceManager::None) {
    plan.notes.push_back("service manager none: files only, nothing started");
    return;
  }
  if (m == ServiceManager::Systemd) {
    if (unit_files_change) {
      plan.services.push_back({{"systemctl", "daemon-reload"}, "load the new unit"});
      plan.rollback_services.push_back({{"systemctl", "daemon-reload"}, ""});
    }
    if (probe_start_needed) {
      if (!now.enabled) {
        plan.services.push_back({{"systemctl", "enable", unit(probe)}, "start the probe at boot"});
        plan.rollback_services.push_back({{"systemctl", "disable", unit(probe)}, ""});
      }
      if (!now.active) {
        plan.services.push_back(
            {{"systemctl", "start", unit(probe)}, "the agent does not start it"});
        plan.rollback_services.push_back({{"systemctl", "stop", unit(probe)}, ""});
      } else if (files_change) {
        plan.services.push_back({{"systemctl", "restart", unit(probe)}, "pick up the new files"});
        plan.rollback_services.push_back({{"systemctl", "restart", unit(probe)}, ""});
      }
    }
    if (now.agent_present && files_change) {
      plan.services.push_back(
          {{"systemctl", "restart", unit(agent)}, "the agent reads system-probe.yaml"});
      plan.rollback_services.push_back({{"systemctl", "restart", unit(agent)}, ""});
    }
  } else {
    if (probe_start_needed) {
      if (!now.enabled) {
        const auto e = sysv_enabler(layout);
        plan.services.push_back(
            {sysv_enable_argv(e, probe), "start the probe at boot, before the agent"});
        plan.rollback_services.push_back({sysv_disable_argv(e, probe), ""});
      }
      if (!now.active) {
        plan.services.push_back({{"service", probe, "start"}, "the agent does not start it"});
        plan.rollback_services.push_back({{"service", probe, "stop"}, ""});
      } else if (files_change) {
        plan.services.push_back({{"service", probe, "restart"}, "pick up the new files"});
        plan.rollback_services.push_back({{"service", probe, "restart"}, ""});
      }
    }
    if (now.agent_present && files_change) {
      plan.services.push_back({{"service", agent, "restart"}, "the agent reads system-probe.yaml"});
      plan.rollback_services.push_back({{"service", agent, "restart"}, ""});
    }
  }
  if (probe_start_needed || now.agent_present) plan.health_check = health_path(layout.mode);
}

std::vector<ServiceStep> uninstall_services(ServiceManager m, const Layout& layout,
                                            const ServiceState& now,
                                            const std::vector<std::string>& enabled) {
  std::vector<ServiceStep> out;
  const std::string probe = layout.probe_service;
  const bool cnmkit_enabled = std::find(enabled.begin(), enabled.end(), probe) != enabled.end();
  if (m == ServiceManager::Systemd && now.unit_known) {
    if (now.active) out.push_back({{"systemctl", "stop", unit(probe)}, "stop the probe"});
    if (now.enabled && cnmkit_enabled)
      out.push_back({{"systemctl", "disable", unit(probe)}, "no start at boot"});
    // Beside the Agent the init script and its links are the Agent package's.
    if (now.sysv_links && layout.mode == ProbeMode::Standalone)
      out.push_back({sysv_disable_argv(sysv_enabler(layout), probe),
                     "the rc links systemctl made for the init script uninstall removes"});
  } else if (m == ServiceManager::Sysv && now.unit_known) {
    if (now.active) out.push_back({{"service", probe, "stop"}, "stop the probe"});
    if (now.enabled && cnmkit_enabled)
      out.push_back({sysv_disable_argv(sysv_enabler(layout), probe), "no start at boot"});
  }
  return out;
}

std::vector<ServiceStep> agent_restart_after_uninstall(ServiceManager m, const Layout& layout,
                                                       const ServiceState& now) {
  if (!now.agent_present) return {};
  const std::string why = "the agent re-reads the restored system-probe.yaml";
  if (m == ServiceManager::Systemd)
    return {{{"systemctl", "restart", unit(layout.agent_service)}, why}};
  if (m == ServiceManager::Sysv) return {{{"service", layout.agent_service, "restart"}, why}};
  return {};
}

}  // namespace cnm
