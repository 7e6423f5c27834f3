#include "installer/installer_cli.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/host_accounts.h"
#include "common/printable.h"
#include "common/process.h"
#include "common/root_dir.h"
#include "installer/apply.h"
#include "installer/health.h"
#include "installer/install_plan.h"
#include "installer/install_state.h"

namespace cnm {
namespace {

struct Args {
  std::string root, archive, sha256, agent_version, manager = "auto", owner;
  std::vector<std::string> sets;
  bool dry_run = false, json = false;
  bool diff = false;  // also show each changing file's diff when applying (a dry run always does)
  bool with_diffs() const { return dry_run || diff; }
  double health_timeout = 30;
};

// Usage errors (exit 2) are std::invalid_argument; everything else that stops a run is "not
// fit / failed" (exit 1) and is reported before anything is written.
int fail(const Args& a, const std::string& what, int code) {
  if (a.json) {
    std::cout << nlohmann::json({{"changed", false}, {"error", what}})
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  }
  std::cerr << "cnmctl: " << printable(what) << "\n";
  return code;
}

ConfigRequest config_request(const Args& a, const Layout& layout) {
  ConfigRequest c;
  for (const auto& s : a.sets) c.sets.push_back(parse_set(s));
  if (!a.owner.empty()) c.owner = parse_owner(layout, a.owner);
  return c;
}

int report(const Args& a, const Plan& plan, const ApplyResult& r, ServiceManager m) {
  if (a.json) {
    // A dry run reports whether applying the plan would change anything (check mode).
    nlohmann::json j = {{"changed", a.dry_run ? plan.changes() : r.changed},
                        {"dry_run", a.dry_run},
                        {"resumed", r.resumed},
                        {"rolled_back", r.rolled_back},
                        {"service_manager", to_string(m)},
                        {"notes", plan.notes},
                        {"actions", plan_json(plan, a.with_diffs())}};
    if (!r.error.empty()) j["error"] = r.error;
    if (!r.rollback_errors.empty()) j["rollback_errors"] = r.rollback_errors;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    // Paths, diffs and errors carry host bytes: the whole text is escaped for the terminal.
    std::ostringstream out;
    out << plan_text(plan, a.with_diffs());
    if (r.resumed) out << "resumed an interrupted run\n";
    if (a.dry_run)
      out << "dry run: nothing changed\n";
    else if (r.rolled_back)
      out << "failed and rolled back: " << r.error << "\n";
    else
      out << (r.changed ? "changed\n" : "already up to date\n");
    std::cout << printable(out.str());
  }
  if (r.rolled_back) std::cerr << "cnmctl: " << printable(r.error) << "; rolled back\n";
  return r.rolled_back ? kExitNotFit : kExitOk;
}

// --archive FILE.tar.gz or --archive FOLDER; without it, the payload the cnmkit package
// installed next to this binary; none (the compiled-in unit, script and example) otherwise.
std::optional<Release> selected_release(const Args& a) {
  const std::optional<std::string> sha = a.sha256.empty() ? std::nullopt : std::optional(a.sha256);
  if (a.archive.empty()) {
    if (sha) throw std::invalid_argument("--sha256 needs --archive");
    const auto payload = installed_payload();
    return payload ? std::optional(read_release_folder(*payload)) : std::nullopt;
  }
  if (!std::filesystem::is_directory(a.archive)) return read_release(a.archive, sha);
  if (sha) throw std::invalid_argument("--sha256 checks an archive file, not a folder");
  return read_release_folder(a.archive);
}

int run_install(const Args& a, const CliContext& ctx, bool config_only) {
  const Layout layout = ctx.layout(a.root);
  ServiceManager m = ServiceManager::None;
  Plan plan;
  std::optional<RunLock> lock;  // held from planning to the end of the apply
  try {
    if (!a.dry_run) lock.emplace(layout, lock_wait_from_env());
    InstallRequest req;
    req.agent = detect_agent(layout, a.agent_version);
    req.config = config_request(a, layout);
    if (config_only) {
      req.config.agent_version = req.agent.version;
      plan.files.push_back(plan_config(layout, req.config));
    } else {
      m = resolve(parse_service_manager(a.manager), layout);
      req.manager = m;
      req.release = selected_release(a);
      plan = plan_install(layout, req, run_command);
    }
  } catch (const std::invalid_argument& e) {
    return fail(a, e.what(), kExitUsage);
  } catch (const std::exception& e) {
    return fail(a, e.what(), kExitNotFit);
  }
  ApplyResult r;
  if (!a.dry_run) {
    const auto timeout = std::chrono::milliseconds(static_cast<long>(a.health_timeout * 1000));
    try {
      r = apply_plan(
          layout, plan, run_command,
          [&] {
            const auto h = wait_for_health(layout, timeout);
            return h.ok ? std::string() : "HTTP " + std::to_string(h.http_status) + " " + h.body;
          },
          kill_hook_from_env());
    } catch (const std::exception& e) {
      return fail(a, e.what(), kExitNotFit);
    }
  }
  return report(a, plan, r, m);
}

int run_uninstall(const Args& a, const CliContext& ctx) {
  const Layout layout = ctx.layout(a.root);
  try {
    const auto m = resolve(parse_service_manager(a.manager), layout);
    std::optional<RunLock> lock;
    if (RootDir(layout.root).exists(layout.state_dir)) lock.emplace(layout, lock_wait_from_env());
    nlohmann::json actions = nlohmann::json::array();
    std::vector<std::string> failed;  // service steps that did not exit 0 (reported, not fatal)
    const auto run_step = [&](const ServiceStep& s) {
      std::string out;
      const int rc = run_command(s.argv, &out);
      actions.push_back(
          {{"type", "service"}, {"command", s.argv}, {"exit", rc}, {"reason", s.reason}});
      if (rc != 0) {
        failed.push_back("`" + command_line(s.argv) + "` exit " + std::to_string(rc) + ": " + out);
      }
    };
    const auto now = query_services(m, layout, run_command);
    const auto stops = uninstall_services(m, layout, now);
    for (const auto& s : stops) run_step(s);
    const auto r = uninstall(layout, kill_hook_from_env());
    std::vector<ServiceStep> after;
    if (r.changed && m == ServiceManager::Systemd)
      after.push_back({{"systemctl", "daemon-reload"}, "forget the removed unit"});
    // Only when this run changed something: an agent on a host cnmkit never touched stays up.
    if (r.changed || !stops.empty())
      for (auto& s : agent_restart_after_uninstall(m, layout, now)) after.push_back(std::move(s));
    nlohmann::json saved = nlohmann::json::array();
    for (const auto& s : r.saved) {
      actions.push_back(
          {{"type", "file"}, {"path", s.path}, {"action", "save"}, {"saved_as", s.saved_as}});
      saved.push_back({{"path", s.path}, {"saved_as", s.saved_as}});
    }
    for (const auto& p : r.restored)
      actions.push_back({{"type", "file"}, {"path", p}, {"action", "restore"}});
    for (const auto& p : r.removed)
      actions.push_back({{"type", "file"}, {"path", p}, {"action", "remove"}});
    for (const auto& s : after) run_step(s);  // files restored first: the agent reads them
    for (const auto& f : failed) std::cerr << "cnmctl: uninstall: " << printable(f) << "\n";
    if (a.json) {
      std::cout << nlohmann::json({{"changed", r.changed || actions.size() > 0},
                                   {"actions", actions},
                                   {"saved", saved}})
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      std::ostringstream out;
      for (const auto& s : r.saved)
        out << "save " << s.path << " as " << s.saved_as << " (edited after cnmkit wrote it)\n";
      for (const auto& p : r.restored) out << "restore " << p << "\n";
      for (const auto& p : r.removed) out << "remove " << p << "\n";
      for (const auto& step : actions)
        if (step["type"] == "service")
          out << "run " << command_line(step["command"].get<std::vector<std::string>>())
              << " (exit " << step["exit"].get<int>() << ")\n";
      out << (r.changed ? "uninstalled\n" : "nothing installed by cnmkit\n");
      std::cout << printable(out.str());
    }
    return kExitOk;
  } catch (const std::invalid_argument& e) {
    return fail(a, e.what(), kExitUsage);
  } catch (const std::exception& e) {
    return fail(a, e.what(), kExitNotFit);
  }
}

int run_status(const Args& a, const CliContext& ctx) {
  const Layout layout = ctx.layout(a.root);
  try {
    const auto m = resolve(parse_service_manager(a.manager), layout);
    const InstallState st(layout);
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : st.files()) {
      files.push_back({{"path", f.path},
                       {"present", st.root().exists(f.path)},
                       {"replaced_original", f.existed}});
    }
    const auto s = query_services(m, layout, run_command);
    nlohmann::json j = {{"installed", st.installed()},
                        {"interrupted_run", st.journal_present()},
                        {"files", files},
                        {"service_manager", to_string(m)}};
    if (m != ServiceManager::None)
      j["service"] = {{"name", layout.probe_service},
                      {"known", s.unit_known},
                      {"enabled", s.enabled},
                      {"active", s.active}};
    if (st.root().exists(layout.probe_socket)) {
      const auto h = probe_health(layout);
      j["health"] = {{"ok", h.ok}, {"http_status", h.http_status}, {"body", h.body}};
    }
    if (a.json) {
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::ostringstream out;
      out << (st.installed() ? "installed by cnmkit\n" : "not installed by cnmkit\n");
      if (st.journal_present())
        out << "an interrupted run is pending: run `cnmctl install` again\n";
      for (const auto& f : j["files"])
        out << "  " << f["path"].get<std::string>()
            << (f["present"].get<bool>() ? "" : " (missing)") << "\n";
      if (j.contains("service"))
        out << "service " << layout.probe_service << ": " << (s.active ? "active" : "inactive")
            << ", " << (s.enabled ? "enabled" : "disabled") << "\n";
      if (j.contains("health"))
        out << "health: " << (j["health"]["ok"].get<bool>() ? "ok" : "not ok") << "\n";
      std::cout << printable(out.str());
    }
    return kExitOk;
  } catch (const std::invalid_argument& e) {
    return fail(a, e.what(), kExitUsage);
  } catch (const std::exception& e) {
    return fail(a, e.what(), kExitNotFit);
  }
}

void add_root(CLI::App* cmd, Args& a) {
  cmd->add_option("--root", a.root, "Act on the host tree below DIR (default /)")
      ->check(CLI::ExistingDirectory);
}

}  // namespace

void add_installer_commands(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<Args>();

  auto* install = app.add_subcommand(
      "install",
      "Install or update the probe: release files, service unit, system-probe.yaml, services. "
      "Idempotent; prints the plan. Exit 0 ok, 1 not fit or failed and rolled back, 2 usage.");
  add_root(install, *a);
  install
      ->add_option("--archive", a->archive,
                   "Release archive (.tar.gz) or release folder to install from (default: "
                   "the payload of the cnmkit package, /usr/lib/cnmkit)")
      ->check(CLI::ExistingPath);
  install->add_option("--sha256", a->sha256, "Expected sha256 of the archive (hex)");
  install->add_option("--agent-version", a->agent_version,
                      "Datadog Agent version (default: detected)");
  install->add_option("--service-manager", a->manager, "auto, systemd, sysv or none (files only)");
  install->add_option("--owner", a->owner,
                      "Owner USER:GROUP of a new system-probe.yaml (default root:dd-agent)");
  install->add_option("--set", a->sets, "Also set KEY=VALUE in system-probe.yaml (dotted key)");
  install->add_option("--health-timeout", a->health_timeout,
                      "Seconds to wait for the probe's /health");
  install->add_flag("--dry-run", a->dry_run, "Print the plan and diffs; change nothing");
  install->add_flag("--diff", a->diff,
                    "Also print each changing file's diff (as a dry run does) while applying");
  install->add_flag("--json", a->json, "One JSON object: changed, actions");
  install->callback([a, &ctx] { ctx.exit_code = run_install(*a, ctx, false); });

  auto* un = app.add_subcommand("uninstall",
                                "Remove what cnmkit installed and restore the files it replaced");
  add_root(un, *a);
  un->add_option("--service-manager", a->manager, "auto, systemd, sysv or none");
  un->add_flag("--json", a->json, "One JSON object");
  un->callback([a, &ctx] { ctx.exit_code = run_uninstall(*a, ctx); });

  auto* status =
      app.add_subcommand("status", "What cnmkit installed, and whether the probe runs and answers");
  add_root(status, *a);
  status->add_option("--service-manager", a->manager, "auto, systemd, sysv or none");
  status->add_flag("--json", a->json, "One JSON object");
  status->callback([a, &ctx] { ctx.exit_code = run_status(*a, ctx); });

  auto* config = app.add_subcommand("config", "Edit system-probe.yaml");
  config->require_subcommand(1);
  auto* enable = config->add_subcommand(
      "enable",
      "Create system-probe.yaml from the example if absent and enable network monitoring, keeping "
      "every comment and other key byte-for-byte");
  add_root(enable, *a);
  enable->add_option("--agent-version", a->agent_version,
                     "Datadog Agent version (default: detected)");
  enable->add_option("--set", a->sets,
                     "Also set KEY=VALUE (dotted key, e.g. network_config.dns_monitoring=true)");
  enable->add_option("--owner", a->owner, "Owner USER:GROUP of a new file (default root:dd-agent)");
  enable->add_flag("--dry-run", a->dry_run, "Print the change as a unified diff; change nothing");
  enable->add_flag("--json", a->json, "One JSON object: changed, actions");
  enable->callback([a, &ctx] { ctx.exit_code = run_install(*a, ctx, true); });
}

}  // namespace cnm
