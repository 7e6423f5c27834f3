#include "installer/install_plan.h"

#include <stdexcept>

#include "installer/install_state.h"
#include "installer/installer_assets.h"

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

}  // namespace

std::string render_template(std::string_view tmpl, const Layout& layout) {
  std::string s(tmpl);
  replace_all(s, "{{probe_binary}}", layout.probe_binary);
  replace_all(s, "{{config_file}}", layout.config_file);
  replace_all(s, "{{probe_service}}", layout.probe_service);
  replace_all(s, "{{agent_service}}", layout.agent_service);
  replace_all(s, "{{run_dir}}", layout.run_dir);
  replace_all(s, "{{config_dir}}", layout.config_dir);
  return s;
}

std::optional<std::pair<std::string, mode_t>> release_destination(const Layout& layout,
                                                                  const std::string& entry) {
  const auto base = std::filesystem::path(entry).filename().string();
  if (entry == "bin/system-probe") return std::make_pair(layout.probe_binary, mode_t{0755});
  if (entry == "config/system-probe.yaml.example")
    return std::make_pair(layout.config_example, mode_t{0644});
  if (starts_with(entry, "ebpf/") && entry.find('/', 5) == std::string::npos)
    return std::make_pair((std::filesystem::path(layout.bpf_object_dir) / base).string(),
                          mode_t{0644});
  if (starts_with(entry, "selinux/") && entry.find('/', 8) == std::string::npos)
    return std::make_pair(
        (std::filesystem::path(layout.bpf_object_dir).parent_path() / "selinux" / base).string(),
        mode_t{0644});
  return std::nullopt;
}

Plan plan_install(const Layout& layout, const InstallRequest& req, const CommandRunner& run) {
  Plan plan;
  plan.notes.push_back(
      req.agent.version ? "agent " + req.agent.version->str() + " (from " + req.agent.source + ")"
                        : "no Datadog Agent found: the probe service is started by cnmkit");
  std::string unit_tmpl(assets::kSystemdUnit), init_tmpl(assets::kInitScript);
  ConfigRequest config = req.config;
  config.agent_version = req.agent.version;
  if (req.release) {
    for (const auto& [entry, content] : req.release->files) {
      if (entry == "systemd/system-probe.service.in") {
        unit_tmpl = content;
        continue;
      }
      if (entry == "init.d/system-probe.init.in") {
        init_tmpl = content;
        continue;
      }
      const auto dest = release_destination(layout, entry);
      if (!dest)
        throw std::runtime_error("release archive: unexpected entry '" + entry +
                                 "'; nothing was installed");
      plan.files.push_back(
          want(layout, dest->first, content, dest->second, "from the release archive"));
      if (entry == "config/system-probe.yaml.example") config.example = content;
    }
  }
  plan.files.push_back(want(layout,
                            layout.systemd_unit_dir + "/" + layout.probe_service + ".service",
                            render_template(unit_tmpl, layout), 0644, "systemd unit of the probe"));
  plan.files.push_back(want(layout, layout.sysv_init_dir + "/" + layout.probe_service,
                            render_template(init_tmpl, layout), 0755,
                            "SysV init script (no-systemd fallback)"));
  // The host's example only counts if this run does not replace it.
  plan.files.push_back(plan_config(layout, config));

  bool files_change = false;
  for (const auto& f : plan.files) files_change |= f.changes();
  // An unfinished run (killed after writing files, before its reload/restarts) left files
  // that no service has picked up: plan the service steps as if the files changed now.
  if (!files_change && journal_exists(layout)) {
    files_change = true;
    plan.notes.push_back("an interrupted run left its service steps undone: running them now");
  }
  const auto state = query_services(req.manager, layout, run);
  plan_services(plan, req.manager, layout, state, probe_needs_explicit_start(req.agent.version),
                files_change);
  return plan;
}

}  // namespace cnm
