#include "installer/install_plan.h"

#include <stdexcept>

#include "common/agent_env.h"
#include "common/printable.h"
#include "common/random_token.h"
#include "common/root_dir.h"
#include "installer/btf_archive_input.h"
#include "installer/install_state.h"
#include "installer/installer_assets.h"
#include "installer/package_files.h"
#include "installer/release_contents.h"
#include "installer/unit_sandbox.h"

namespace cnm {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

FileAction want(const Layout& layout, const std::string& host_path, std::string content,
                mode_t mode, std::string reason) {
  FileAction a = current_file(layout, host_path);
  a.after = std::move(content);
  a.mode = mode;
  a.reason = std::move(reason);
  return a;
}

// systemd's RuntimeDirectory= names a folder below /run.
std::string run_dir_name(const Layout& layout) {
  const std::string prefix = "/run/";
  if (!starts_with(layout.run_dir, prefix) || layout.run_dir.size() == prefix.size())
    throw std::runtime_error("run_dir " + layout.run_dir +
                             " is not below /run: the cnm-probe unit makes it with "
                             "RuntimeDirectory=; nothing was installed");
  return layout.run_dir.substr(prefix.size());
}

// cnm-probe's own token, made with everything else of cnmkit's so uninstall takes it away too
// (the probe makes one as well when it finds none); one that is there is kept as it is. Beside
// the Agent there is no such step: the Agent's token is the Agent's.
FileAction plan_token(const Layout& layout, const ConfigRequest& config) {
  FileAction a = current_file(layout, layout.auth_token_file);
  a.secret = true;
  a.reason = "cnm-probe's auth token";
  if (a.before) {
    a.after = *a.before;
    a.mode = a.before_mode;
    return a;
  }
  a.after = random_token() + "\n";
  a.mode = 0600;
  a.owner = config.owner ? *config.owner : FileOwner{0, 0};  // --owner, else root
  return a;
}

// Whether the install state records host_path as a file cnmkit wrote.
bool recorded_by_cnmkit(const Layout& layout, const std::string& host_path) {
  return RootDir(layout.root).exists(layout.state_dir) &&
         InstallState(layout).find(host_path) != nullptr;
}

// The paths the probe is started with (its unit and init script pass --layout): the layout's
// fields that differ from cnm-probe's defaults, "{}" when none.
FileAction plan_probe_layout(const Layout& layout) {
  return want(layout, probe_layout_file(layout),
              "# Written by `cnmctl install`: where cnmctl put cnm-probe's files, for the probe's\n"
              "# --layout (common/layout.h has the defaults). Change them with cnmctl install\n"
              "# --layout, not here: the next install writes this file again.\n" +
                  layout_overrides_yaml(layout),
              0644, "cnm-probe's layout (its paths, when not the defaults)");
}

// The standalone files: the release's binary and objects (none without a release: the
// compiled-in unit, script and example still make a complete service around a probe an image
// put in place), the unit, the init script and the config. The release's contents move into
// the plan: a file is held in memory once.
void plan_standalone_files(Plan& plan, const Layout& layout, InstallRequest& req,
                           ConfigRequest& config, int systemd) {
  std::string unit_tmpl(assets::kSystemdUnit), init_tmpl(assets::kInitScript);
  if (req.release) {
    for (auto& [entry, content] : req.release->files) {
      if (entry == kReleaseUnit) {
        unit_tmpl = std::move(content);
      } else if (entry == kReleaseInit) {
        init_tmpl = std::move(content);
      } else if (entry == kReleaseExample) {
        config.example = std::move(content);
      } else if (const auto dest = release_destination(layout, entry)) {
        // Every other file a release holds has a destination, and the readers refuse any name
        // a release does not hold (release_contents.h).
        plan.files.push_back(
            want(layout, dest->first, std::move(content), dest->second, "from the release"));
      }
    }
  }
  if (req.btf_archive)
    plan.files.push_back(want(layout, btf_archive_destination(layout.bpf_object_dir),
                              std::move(req.btf_archive->bytes), 0644,
                              "BTF archive: CO-RE types of " +
                                  std::to_string(req.btf_archive->releases.size()) +
                                  " kernels, for hosts without their own BTF"));
  std::string unit = render_template(unit_tmpl, layout);
  replace_all(unit, "{{syscall_filter}}", syscall_filter(systemd));
  replace_all(unit, "{{protect_system}}", protect_system(systemd, layout.config_dir));
  plan.files.push_back(want(layout,
                            layout.systemd_unit_dir + "/" + layout.probe_service + ".service",
                            std::move(unit), 0644, "systemd unit of cnm-probe"));
  // Not on a systemd host: systemctl enable would mirror the unit onto a same-named script
  // (systemd-sysv-install: rc links that disable leaves behind), and the script run by hand
  // would start a probe outside the unit's sandbox. Without a manager (an image) both are
  // written, for whichever init boots it. One an earlier cnmkit wrote there is replaced by
  // this one, which hands its actions to systemctl (uninstall takes it away).
  const std::string init_script = layout.sysv_init_dir + "/" + layout.probe_service;
  if (req.manager != ServiceManager::Systemd || recorded_by_cnmkit(layout, init_script))
    plan.files.push_back(want(layout, init_script, render_template(init_tmpl, layout), 0755,
                              "SysV init script of cnm-probe (hosts without systemd)"));
  plan.files.push_back(plan_config(layout, config));
  plan.files.push_back(plan_token(layout, config));
  plan.files.push_back(plan_probe_layout(layout));
}

// Beside the Agent: only system-probe.yaml, from the Agent's own example where absent (the
// release's or the built-in one only when the Agent's is missing).
void plan_agent_files(Plan& plan, const Layout& layout, const InstallRequest& req,
                      ConfigRequest& config) {
  if (req.release && !current_file(layout, layout.config_example).before)
    if (const auto it = req.release->files.find(std::string(kReleaseExample));
        it != req.release->files.end())
      config.example = it->second;
  plan.files.push_back(plan_config(layout, config));
}

// Refuses the plan when a file it would write belongs to a package.
void refuse_package_files(const Plan& plan, const Layout& layout, const CommandRunner& run) {
  std::vector<std::string> writes;
  for (const auto& f : plan.files)
    if (f.changes()) writes.push_back(f.host_path);
  const auto owners = package_owners(layout, writes, run);
  if (owners.empty()) return;
  std::string list;
  for (const auto& [path, pkg] : owners)
    list += (list.empty() ? "" : ", ") + path + " (" + pkg + ")";
  throw std::runtime_error("cnmkit never writes a file a package owns: " + list +
                           "; nothing was installed (point the layout elsewhere, or use --probe "
                           "agent beside the Agent's package)");
}

// `cnmctl selinux install` for this mode's binary, after the files and before the services:
// when the module is missing, the binary unlabelled, or the binary just written (a new file
// takes its folder's label).
void plan_selinux(Plan& plan, const Layout& layout, const SelinuxState& se) {
  if (!se.enabled) return;
  bool binary_written = false;
  for (const auto& f : plan.files)
    binary_written |= f.host_path == layout.probe_binary && f.changes();
  if (se.module_installed && se.binary_labeled && !binary_written) return;
  const std::string mode = to_string(layout.mode);
  auto step = se.command;
  step.insert(step.end(), {"selinux", "install", "--probe", mode});
  if (!layout.is_live()) step.insert(step.end(), {"--root", layout.root.string()});
  plan.services.push_back({step, "SELinux: our module in the policy, the probe's binary labelled"});
  auto undo = se.command;
  if (!se.module_installed) {
    undo.insert(undo.end(), {"selinux", "remove", "--probe", mode});
    if (!layout.is_live()) undo.insert(undo.end(), {"--root", layout.root.string()});
  } else {
    undo.clear();  // the module was there before this run: it stays
  }
  plan.rollback_services.push_back({undo, ""});
  plan.host.selinux_module = !se.module_installed;
}

// The services cnmkit enables at boot, recorded so uninstall disables only those.
void record_enabled_services(Plan& plan, const Layout& layout, const ServiceState& now,
                             bool probe_start_needed, ServiceManager m) {
  if (m != ServiceManager::None && probe_start_needed && !now.enabled)
    plan.host.enabled_services.push_back(layout.probe_service);
}

// A layout value written into the unit (ExecStart=, split at blanks, % specifiers;
// RuntimeDirectory=, where a colon names a link) and into the init script (sh: blanks, quotes,
// $, globs...) as it is: only characters all of them take literally, so no quoting is needed
// and none can be wrong.
void check_unquoted(const std::string& field, const std::string& value) {
  static constexpr std::string_view kSafe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@,=";
  const auto bad = value.find_first_not_of(kSafe);
  if (bad == std::string::npos) return;
  throw std::runtime_error("layout " + field + " '" + printable(value) +
                           "' holds a character the probe's unit and init script cannot take "
                           "unquoted (only letters, digits and /._-+@,=); nothing was installed");
}

}  // namespace

void check_service_files_layout(const Layout& layout) {
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string&>{"probe_binary", layout.probe_binary},
        {"config_file", layout.config_file},
        {"config_dir", layout.config_dir},
        {"probe_service", layout.probe_service},
        {"run_dir", layout.run_dir}})
    check_unquoted(field, value);
  run_dir_name(layout);
}

std::string render_template(std::string_view tmpl, const Layout& layout) {
  check_service_files_layout(layout);
  std::string s(tmpl);
  replace_all(s, "{{probe_binary}}", layout.probe_binary);
  replace_all(s, "{{config_file}}", layout.config_file);
  replace_all(s, "{{probe_service}}", layout.probe_service);
  replace_all(s, "{{agent_service}}", layout.agent_service);
  replace_all(s, "{{run_dir}}", layout.run_dir);
  replace_all(s, "{{config_dir}}", layout.config_dir);
  replace_all(s, "{{probe_layout_file}}", probe_layout_file(layout));
  if (s.find("{{run_dir_name}}") != std::string::npos)
    replace_all(s, "{{run_dir_name}}", run_dir_name(layout));
  return s;
}

std::optional<std::pair<std::string, mode_t>> release_destination(const Layout& layout,
                                                                  const std::string& entry) {
  const ReleaseFile* f = find_release_file(entry);
  if (!f) return std::nullopt;
  const auto base = std::filesystem::path(entry).filename();
  const std::filesystem::path bpf_dir(layout.bpf_object_dir);
  switch (f->dest) {
    case ReleaseDest::ProbeBinary:
      return std::make_pair(layout.probe_binary, f->mode);
    case ReleaseDest::BpfObjects:
      return std::make_pair((bpf_dir / base).string(), f->mode);
    case ReleaseDest::Selinux:
      return std::make_pair((bpf_dir.parent_path() / "selinux" / base).string(), f->mode);
    case ReleaseDest::Read:
      break;
  }
  return std::nullopt;
}

Plan plan_install(const Layout& layout, InstallRequest req, const CommandRunner& run) {
  Plan plan;
  const bool agent_mode = layout.mode == ProbeMode::Agent;
  plan.host.mode = layout.mode;
  plan.host.layout = layout_overrides_yaml(layout);
  plan.notes.push_back(std::string("probe: ") + to_string(layout.mode) + " (" + req.mode.why + ")");
  if (agent_mode && req.agent.version)
    plan.notes.push_back("agent " + req.agent.version->str() + " (from " + req.agent.source + ")");
  ConfigRequest config = req.config;
  config.agent_version = req.agent.version;
  if (agent_mode)  // (its config action names the Agent's environment overrides)
    plan_agent_files(plan, layout, req, config);
  else  // the unit for the systemd that will run it (none asked under --root: 0)
    plan_standalone_files(plan, layout, req, config,
                          req.manager == ServiceManager::Systemd ? systemd_version(run) : 0);
  refuse_package_files(plan, layout, run);

  bool files_change = false;
  for (const auto& f : plan.files) files_change |= f.changes();
  // An unfinished run (killed after writing files, before its reload/restarts) left files
  // that no service has picked up: plan the service steps as if the files changed now.
  if (!files_change && journal_exists(layout)) {
    files_change = true;
    plan.notes.push_back("an interrupted run left its service steps undone: running them now");
  }
  plan_selinux(plan, layout, req.selinux);
  const auto state = query_services(req.manager, layout, run);
  if (agent_mode && req.manager == ServiceManager::Sysv && !state.unit_known)
    throw std::runtime_error(
        "the Agent's system-probe has no init script (" + layout.sysv_init_dir + "/" +
        layout.probe_service +
        "): the Agent here runs under another init (upstart's /etc/init/datadog-agent*.conf, "
        "which cnmctl does not drive); nothing was installed");
  if (agent_mode && req.manager == ServiceManager::Sysv)
    if (const auto off = sysv_probe_disabled_by(HostFs(layout.root), layout))
      throw std::runtime_error(
          *off + " sets DATADOG_ENABLED=no: the Agent's init script for its system-probe (" +
          layout.sysv_init_dir + "/" + layout.probe_service +
          ") does not start it (at boot, or by `service ... start`), so network monitoring "
          "would stay off; remove the line (or set it yes) and run again; nothing was "
          "installed");
  // Standalone, cnmkit starts its own probe; beside the Agent, only where the Agent does not
  // start its system-probe itself: before 6.18/7.18, and under SysV at every version (the
  // Agent's init script starts its process, trace and security agents, never the system-probe:
  // omnibus sysvinit_debian.erb; systemd starts it with the Agent's unit from 6.18/7.18).
  const bool start_probe = !agent_mode || probe_needs_explicit_start(req.agent.version) ||
                           req.manager == ServiceManager::Sysv;
  // The Datadog installer's experiment (an Agent upgrade on trial, Fleet Automation) runs the
  // <agent>-exp units, which conflict with the stable ones (datadog-agent pkg/fleet/installer
  // systemd units): the restart below would stop the experiment, which the installer then
  // counts as failed. Its units read the same configuration, so nothing is changed until it is
  // promoted or stopped.
  if (agent_mode && state.agent_experiment && (files_change || start_probe))
    throw std::runtime_error(agent_experiment_refusal(layout, "nothing was installed"));
  record_enabled_services(plan, layout, state, start_probe, req.manager);
  plan_services(plan, req.manager, layout, state, start_probe, files_change,
                /*unit_files_change=*/!agent_mode && files_change);
  return plan;
}

}  // namespace cnm
