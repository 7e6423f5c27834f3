#include "installer/installer_cli.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/host_accounts.h"
#include "common/host_layout.h"
#include "common/printable.h"
#include "common/process.h"
#include "common/root_dir.h"
#include "installer/apply.h"
#include "installer/btf_archive_input.h"
#include "installer/health.h"
#include "installer/install_plan.h"
#include "installer/install_state.h"
#include "installer/release_contents.h"
#include "probe/btf_archive.h"

namespace cnm {
namespace {

// install and config enable take the same --set (installer/README.md, "--set").
constexpr const char* kSetHelp =
    "Also set KEY=VALUE in system-probe.yaml (dotted key, e.g. "
    "system_probe_config.max_tracked_connections=100000; VALUE one scalar, written quoted unless "
    "it reads back as itself; never the enable key, which cnmctl sets; a key the Agent reads "
    "in another section is written there)";

// Seconds from 0 to kMaxWaitSeconds, read as CNMKIT_LOCK_TIMEOUT is (install_state.h).
const CLI::Validator kSeconds(
    [](std::string& in) { return wait_seconds(in) ? std::string() : wait_seconds_error(in); },
    "SECONDS");

struct Args {
  std::string root, archive, sha256, agent_version, manager = "auto", owner, probe = "auto",
                                                    btf_archive;
  std::vector<std::string> sets;
  bool dry_run = false, json = false;
  bool diff = false;  // also show each changing file's diff when applying (a dry run always does)
  bool with_diffs() const { return dry_run || diff; }
  double health_timeout = 30;
};

// An earlier install of the other mode that this run took away first (uninstall's report),
// and, when the new install then failed, whether that mode was installed again.
struct Switch {
  std::optional<ProbeMode> from;
  bool taken_away = false;
  nlohmann::json uninstall;
  std::optional<std::string> again_error;  // set when it was tried: "" when it worked
};

// The JSON report's account of a switch: the mode taken away, its uninstall's report, and
// whether it was installed again after the new install failed.
nlohmann::json switch_json(const Switch& sw) {
  nlohmann::json j = {{"probe", to_string(*sw.from)}, {"uninstall", sw.uninstall}};
  if (sw.again_error) {
    j["installed_again"] = sw.again_error->empty();
    if (!sw.again_error->empty()) j["error"] = *sw.again_error;
  }
  return j;
}

// Usage errors (exit 2) are std::invalid_argument; everything else that stops a run is "not
// fit / failed" (exit 1) and is reported before anything is written, but for a switch that
// already took the other mode away (then `sw` says so, and whether it is back).
int fail(const Args& a, const std::string& what, int code, const Switch& sw = {}) {
  if (a.json) {
    nlohmann::json j = {{"changed", sw.taken_away}, {"error", what}};
    if (sw.taken_away) j["switched_from"] = switch_json(sw);
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
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

int report(const Args& a, const Plan& plan, const ApplyResult& r, ServiceManager m,
           const Layout& layout, const Switch& sw) {
  if (a.json) {
    // A dry run reports whether applying the plan would change anything (check mode).
    nlohmann::json j = {{"changed", (a.dry_run ? plan.changes() : r.changed) || sw.from},
                        {"dry_run", a.dry_run},
                        {"probe", to_string(layout.mode)},
                        {"resumed", r.resumed},
                        {"rolled_back", r.rolled_back},
                        {"service_manager", to_string(m)},
                        {"notes", plan.notes},
                        {"actions", plan_json(plan, a.with_diffs())}};
    if (sw.from) j["switched_from"] = switch_json(sw);
    if (!r.error.empty()) j["error"] = r.error;
    if (!r.rollback_errors.empty()) j["rollback_errors"] = r.rollback_errors;
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    // Paths, diffs and errors carry host bytes: the whole text is escaped for the terminal.
    std::ostringstream out;
    if (sw.from)
      out << "the " << to_string(*sw.from) << " probe cnmkit installed before is "
          << (a.dry_run ? "to be uninstalled first" : "uninstalled") << "\n";
    out << "probe: " << to_string(layout.mode) << "\n" << plan_text(plan, a.with_diffs());
    if (r.resumed) out << "resumed an interrupted run\n";
    if (a.dry_run)
      out << "dry run: nothing changed\n";
    else if (r.rolled_back)
      out << "failed and rolled back: " << r.error << "\n";
    else
      out << (r.changed ? "changed\n" : "already up to date\n");
    if (sw.from && sw.again_error)
      out << "the " << to_string(*sw.from) << " probe "
          << (sw.again_error->empty() ? "is installed again\n"
                                      : "could not be installed again: " + *sw.again_error + "\n");
    std::cout << printable(out.str());
  }
  if (r.rolled_back) std::cerr << "cnmctl: " << printable(r.error) << "; rolled back\n";
  return r.rolled_back ? kExitNotFit : kExitOk;
}

// --archive FILE.tar.gz or --archive FOLDER; without it, the payload the cnmkit package
// installed next to this binary; none (the compiled-in unit, script and example) otherwise.
std::optional<Release> read_selected_release(const Args& a) {
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

// The release an install in `mode` uses, refused here when it lacks what the mode needs:
// before the other mode's install is taken away and before the plan, so an incomplete
// release changes nothing.
std::optional<Release> selected_release(const Args& a, ProbeMode mode) {
  auto rel = read_selected_release(a);
  if (rel) check_release_complete(*rel, mode);
  return rel;
}

// --btf-archive FILE, checked whole before anything changes; cnm-probe's only. Beside an
// Agent found by --probe auto it is left out with a note (a fleet's one setting covers hosts of
// both modes); asked for beside the Agent with --probe agent, it is refused.
std::optional<BtfArchiveInput> selected_btf_archive(const Args& a, ProbeMode mode,
                                                    std::vector<std::string>& notes) {
  if (a.btf_archive.empty()) return std::nullopt;
  if (!probe::btf_archive_applies(a.probe, mode)) {
    notes.push_back("BTF archive not installed: " + std::string(probe::kBtfArchiveNotTheAgents));
    return std::nullopt;
  }
  return read_btf_archive_input(a.btf_archive);
}

// The sibling that changes SELinux (cnmctl-selinux, next to this binary), with the run's
// --layout.
std::vector<std::string> selinux_command(const CliContext& ctx) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::vector<std::string> argv{(self.parent_path() / "cnmctl-selinux").string()};
  if (!ctx.layout_file.empty()) argv.insert(argv.end(), {"--layout", ctx.layout_file});
  return argv;
}

// SELinux on the host the plan is for. Only a live host's kernel says whether it is on (the
// selinuxfs is mounted then); under --root the module is not part of the plan (`cnmctl selinux
// install --root` prepares an image).
SelinuxState selinux_state(const Layout& layout, const CliContext& ctx) {
  SelinuxState se;
  if (!layout.is_live() || !RootDir("/").exists("/sys/fs/selinux/enforce")) return se;
  se.enabled = true;
  se.command = selinux_command(ctx);
  auto argv = se.command;
  argv.insert(argv.end(), {"selinux", "status", "--json", "--probe", to_string(layout.mode)});
  std::string out;
  if (run_command(argv, &out) != 0)
    throw std::runtime_error("cannot read SELinux's state (`" + command_line(argv) + "`): " + out);
  const auto j = nlohmann::json::parse(out, nullptr, false);
  se.module_installed = j.is_object() && j.value("module_installed", false);
  se.binary_labeled = j.is_object() && j["binary_labeled"].is_boolean() && j["binary_labeled"];
  return se;
}

// What taking an install away did, for the reports.
struct Uninstalled {
  UninstallResult files;
  nlohmann::json actions = nlohmann::json::array();
  std::vector<std::string> failed;    // service steps that did not exit 0 (reported, not fatal)
  std::vector<std::string> warnings;  // files not restored (their folder is gone), and where
};

// Stops the probe, disables what cnmkit enabled, takes out the SELinux module cnmkit put in,
// restores the files, then has the Agent (if any) re-read them: exactly what the install of
// `layout`'s mode recorded.
Uninstalled uninstall_host(const Layout& layout, ServiceManager m, const CliContext& ctx) {
  Uninstalled u;
  const auto run_step = [&](const ServiceStep& s) {
    std::string out;
    const int rc = run_command(s.argv, &out);
    u.actions.push_back(
        {{"type", "service"}, {"command", s.argv}, {"exit", rc}, {"reason", s.reason}});
    if (rc != 0)
      u.failed.push_back("`" + command_line(s.argv) + "` exit " + std::to_string(rc) + ": " + out);
  };
  HostRecord host = host_record(layout);
  // A state from before modes were recorded: cnmkit had enabled the probe it installed.
  if (!host.mode) host.enabled_services = {layout.probe_service};
  const auto now = query_services(m, layout, run_command);
  // As for an install (install_plan.cpp): the Agent's restart would stop its experiment.
  if (layout.mode == ProbeMode::Agent && now.agent_experiment &&
      RootDir(layout.root).exists(layout.state_dir))
    throw std::runtime_error(agent_experiment_refusal(layout, "nothing was removed"));
  const auto stops = uninstall_services(m, layout, now, host.enabled_services);
  for (const auto& s : stops) run_step(s);
  if (host.selinux_module) {
    auto argv = selinux_command(ctx);
    argv.insert(argv.end(), {"selinux", "remove", "--probe", to_string(layout.mode)});
    if (!layout.is_live()) argv.insert(argv.end(), {"--root", layout.root.string()});
    run_step({argv, "SELinux: the module cnmkit installed"});
  }
  u.files = uninstall(layout, kill_hook_from_env());
  std::vector<ServiceStep> after;
  if (u.files.changed && m == ServiceManager::Systemd && layout.mode == ProbeMode::Standalone)
    after.push_back({{"systemctl", "daemon-reload"}, "forget the removed unit"});
  // Only when this run changed something: an agent on a host cnmkit never touched stays up.
  if (u.files.changed || !stops.empty())
    for (auto& s : agent_restart_after_uninstall(m, layout, now)) after.push_back(std::move(s));
  for (const auto& s : u.files.saved)
    u.actions.push_back(
        {{"type", "file"}, {"path", s.path}, {"action", "save"}, {"saved_as", s.saved_as}});
  for (const auto& p : u.files.restored)
    u.actions.push_back({{"type", "file"}, {"path", p}, {"action", "restore"}});
  const RootDir root(layout.root);
  for (const auto& k : u.files.kept) {
    u.actions.push_back({{"type", "file"},
                         {"path", k.path},
                         {"action", "keep"},
                         {"kept_as", k.kept_as},
                         {"folder_gone", k.folder}});
    u.warnings.push_back(
        root.display(k.path).string() + " not restored: " + root.display(k.folder).string() +
        " is gone; the original cnmkit replaced is kept as " + root.display(k.kept_as).string());
  }
  for (const auto& p : u.files.removed)
    u.actions.push_back({{"type", "file"}, {"path", p}, {"action", "remove"}});
  for (const auto& s : after) run_step(s);  // files restored first: the agent reads them
  return u;
}

// Takes the other mode's install away when the host has one (an Agent installed after
// cnm-probe: the host moves to agent mode, and nothing of cnm-probe's stays to collide with
// it). The new mode is planned once before, on the host as it is: what refuses that plan (a
// package-owned file, a malformed configuration, an unreadable SELinux state) refuses the run
// while the other mode's install is still there. A dry run only says it would go.
Switch switch_from_other_mode(const Args& a, const CliContext& ctx, const Layout& layout,
                              ServiceManager m, const InstallRequest& req) {
  Switch sw;
  const InstallState st(layout);
  if (!st.host().mode || *st.host().mode == layout.mode) return sw;
  sw.from = st.host().mode;
  if (a.dry_run) return sw;
  const Layout from = ctx.layout(a.root, *sw.from);
  check_host_layout(ctx, from, st.host());
  InstallRequest trial = req;
  trial.selinux = selinux_state(layout, ctx);
  (void)plan_install(layout, std::move(trial), run_command);
  const auto u = uninstall_host(from, m, ctx);
  sw.taken_away = true;
  sw.uninstall = u.actions;
  for (const auto& f : u.failed) std::cerr << "cnmctl: uninstall: " << printable(f) << "\n";
  for (const auto& w : u.warnings) std::cerr << "cnmctl: uninstall: " << printable(w) << "\n";
  return sw;
}

// The run's health check: the probe of `layout` answers within --health-timeout ("" when it
// does, else what it answered).
HealthCheck health_check(const Args& a, const Layout& layout) {
  const auto timeout = std::chrono::milliseconds(static_cast<long>(a.health_timeout * 1000));
  return [layout, timeout] {
    const auto h = wait_for_health(layout, timeout);
    return h.ok ? std::string() : "HTTP " + std::to_string(h.http_status) + " " + h.body;
  };
}

// What an install of `layout`'s mode is asked to do, from the run's options: all but SELinux's
// state, read once any switch has taken the other mode away. Notes about options left out go
// to `notes`.
InstallRequest install_request(const Args& a, const Layout& layout, ModeChoice mode,
                               ServiceManager m, std::vector<std::string>& notes) {
  InstallRequest req;
  req.mode = std::move(mode);
  req.agent = detect_agent(layout, a.agent_version);
  req.config = config_request(a, layout);
  req.manager = m;
  req.release = selected_release(a, layout.mode);
  req.btf_archive = selected_btf_archive(a, layout.mode, notes);
  return req;
}

// After a switch whose new install failed (refused after the other mode went, or rolled back):
// the mode the host had, installed again from what this run has (its --set, owner, release,
// service manager), so a failed switch does not leave the host unmonitored. "" when it worked,
// else why not.
std::string install_again(const Args& a, const CliContext& ctx, ProbeMode mode, ServiceManager m) {
  try {
    const Layout layout = ctx.layout(a.root, mode);
    std::vector<std::string> notes;
    auto req =
        install_request(a, layout, {mode, "installed again after the switch failed"}, m, notes);
    req.selinux = selinux_state(layout, ctx);
    const Plan plan = plan_install(layout, std::move(req), run_command);
    const auto r =
        apply_plan(layout, plan, run_command, health_check(a, layout), kill_hook_from_env());
    return r.rolled_back ? r.error : std::string();
  } catch (const std::exception& e) {
    return e.what();
  }
}

// A run that stopped after its switch took the other mode away: that mode installed again,
// and the error says how that went.
std::string failed_switch(const Args& a, const CliContext& ctx, ServiceManager m, Switch& sw,
                          const std::string& error) {
  if (!sw.taken_away) return error;
  sw.again_error = install_again(a, ctx, *sw.from, m);
  return error + "; the " + to_string(*sw.from) + " probe " +
         (sw.again_error->empty() ? "is installed again"
                                  : "could not be installed again: " + *sw.again_error);
}

int run_install(const Args& a, const CliContext& ctx, bool config_only) {
  ModeChoice choice;
  Layout layout;
  try {
    layout = ctx.layout(a.root, a.probe, choice);
    check_host_layout(ctx, layout, host_record(layout));
    // Before a switch from the other mode takes that mode's install away.
    if (layout.mode == ProbeMode::Standalone && !config_only) check_service_files_layout(layout);
  } catch (const std::invalid_argument& e) {
    return fail(a, e.what(), kExitUsage);
  } catch (const std::exception& e) {
    return fail(a, e.what(), kExitNotFit);
  }
  ServiceManager m = ServiceManager::None;
  Plan plan;
  Switch sw;
  std::optional<RunLock> lock;  // held from planning to the end of the apply
  try {
    // A manager this run must not use is refused before the lock makes the state folder.
    if (!config_only) m = resolve(parse_service_manager(a.manager), layout);
    if (!a.dry_run) lock.emplace(layout, lock_wait_from_env());
    if (config_only) {
      ConfigRequest config = config_request(a, layout);
      config.agent_version = detect_agent(layout, a.agent_version).version;
      plan.files.push_back(plan_config(layout, config));
    } else {
      std::vector<std::string> btf_notes;
      auto req = install_request(a, layout, choice, m, btf_notes);
      sw = switch_from_other_mode(a, ctx, layout, m, req);
      req.selinux = selinux_state(layout, ctx);
      plan = plan_install(layout, std::move(req), run_command);
      plan.notes.insert(plan.notes.end(), btf_notes.begin(), btf_notes.end());
    }
  } catch (const std::invalid_argument& e) {
    return fail(a, failed_switch(a, ctx, m, sw, e.what()), kExitUsage, sw);
  } catch (const std::exception& e) {
    return fail(a, failed_switch(a, ctx, m, sw, e.what()), kExitNotFit, sw);
  }
  ApplyResult r;
  if (!a.dry_run) {
    try {
      r = apply_plan(layout, plan, run_command, health_check(a, layout), kill_hook_from_env());
    } catch (const std::exception& e) {
      return fail(a, failed_switch(a, ctx, m, sw, e.what()), kExitNotFit, sw);
    }
    if (r.rolled_back && sw.taken_away) sw.again_error = install_again(a, ctx, *sw.from, m);
  }
  return report(a, plan, r, m, layout, sw);
}

// The mode an uninstall or status is about: the one the install recorded, else what --probe
// (auto by default) chooses; its layout must be the install's (host_layout.h).
Layout recorded_layout(const Args& a, const CliContext& ctx) {
  ModeChoice choice;
  const Layout chosen = ctx.layout(a.root, a.probe, choice);
  const HostRecord host = host_record(chosen);
  const Layout layout =
      host.mode && *host.mode != chosen.mode ? ctx.layout(a.root, *host.mode) : chosen;
  check_host_layout(ctx, layout, host);
  return layout;
}

int run_uninstall(const Args& a, const CliContext& ctx) {
  try {
    const Layout layout = recorded_layout(a, ctx);
    const auto m = resolve(parse_service_manager(a.manager), layout);
    std::optional<RunLock> lock;
    if (RootDir(layout.root).exists(layout.state_dir)) lock.emplace(layout, lock_wait_from_env());
    const auto u = uninstall_host(layout, m, ctx);
    for (const auto& f : u.failed) std::cerr << "cnmctl: uninstall: " << printable(f) << "\n";
    for (const auto& w : u.warnings) std::cerr << "cnmctl: uninstall: " << printable(w) << "\n";
    if (a.json) {
      nlohmann::json saved = nlohmann::json::array(), kept = nlohmann::json::array();
      for (const auto& s : u.files.saved)
        saved.push_back({{"path", s.path}, {"saved_as", s.saved_as}});
      for (const auto& k : u.files.kept)
        kept.push_back({{"path", k.path}, {"kept_as", k.kept_as}, {"folder_gone", k.folder}});
      std::cout << nlohmann::json({{"changed", u.files.changed || !u.actions.empty()},
                                   {"probe", to_string(layout.mode)},
                                   {"actions", u.actions},
                                   {"saved", saved},
                                   {"kept", kept}})
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      std::ostringstream out;
      for (const auto& s : u.files.saved)
        out << "save " << s.path << " as " << s.saved_as << " (edited after cnmkit wrote it)\n";
      for (const auto& p : u.files.restored) out << "restore " << p << "\n";
      for (const auto& k : u.files.kept)
        out << "keep the original of " << k.path << " as " << k.kept_as << " (" << k.folder
            << " is gone: not restored)\n";
      for (const auto& p : u.files.removed) out << "remove " << p << "\n";
      for (const auto& step : u.actions)
        if (step["type"] == "service")
          out << "run " << command_line(step["command"].get<std::vector<std::string>>())
              << " (exit " << step["exit"].get<int>() << ")\n";
      out << (u.files.changed ? "uninstalled\n" : "nothing installed by cnmkit\n");
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
  try {
    const Layout layout = recorded_layout(a, ctx);
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
                        {"probe", to_string(layout.mode)},
                        {"interrupted_run", st.journal_present()},
                        {"files", files},
                        {"service_manager", to_string(m)}};
    // Originals an uninstall could not put back (their folder was gone): the operator's.
    const auto kept = st.kept_files();
    if (!kept.empty()) j["kept"] = kept;
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
      for (const auto& k : kept) out << "kept by an uninstall (its folder was gone): " << k << "\n";
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

void add_probe(CLI::App* cmd, Args& a) {
  cmd->add_option("--probe", a.probe,
                  "Whose probe: agent (configure the Datadog Agent's system-probe), cnmkit "
                  "(cnm-probe under cnmkit's own names) or auto (agent when the Agent is "
                  "installed)")
      ->check(CLI::IsMember({"auto", "agent", "cnmkit"}));
}

}  // namespace

void add_installer_commands(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<Args>();

  auto* install = app.add_subcommand(
      "install",
      "Install or update the probe: release files, service unit, system-probe.yaml, services. "
      "Idempotent; prints the plan. Exit 0 ok, 1 not fit or failed and rolled back, 2 usage.");
  add_root(install, *a);
  add_probe(install, *a);
  install
      ->add_option("--archive", a->archive,
                   "Release archive (.tar.gz) or release folder to install from (default: "
                   "the payload of the cnmkit package, /usr/lib/cnmkit)")
      ->check(CLI::ExistingPath);
  install->add_option("--sha256", a->sha256, "Expected sha256 of the archive (hex)");
  install
      ->add_option("--btf-archive", a->btf_archive,
                   "A BTF archive (minimized BTF of many kernels, probe/README.md \"Kernels "
                   "without BTF\") to install beside the probe's objects (standalone)")
      ->check(CLI::ExistingFile);
  install->add_option("--agent-version", a->agent_version,
                      "Datadog Agent version (default: detected)");
  install->add_option("--service-manager", a->manager,
                      "auto, systemd, sysv or none (files only); under --root: none (or auto)");
  install->add_option("--owner", a->owner,
                      "Owner USER:GROUP of a new system-probe.yaml (default: root and the "
                      "layout's group, dd-agent beside the Agent)");
  install->add_option("--set", a->sets, kSetHelp);
  install
      ->add_option("--health-timeout", a->health_timeout,
                   "Seconds (0 to " + std::to_string(kMaxWaitSeconds) +
                       ") to wait for the probe's " + health_path(ProbeMode::Standalone) +
                       " (beside the Agent, system-probe's " + health_path(ProbeMode::Agent) + ")")
      ->check(kSeconds);
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
  add_probe(status, *a);
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
  add_probe(enable, *a);
  enable->add_option("--agent-version", a->agent_version,
                     "Datadog Agent version (default: detected)");
  enable->add_option("--set", a->sets, kSetHelp);
  enable->add_option("--owner", a->owner,
                     "Owner USER:GROUP of a new file (default: root and the layout's group, "
                     "dd-agent beside the Agent)");
  enable->add_flag("--dry-run", a->dry_run, "Print the change as a unified diff; change nothing");
  enable->add_flag("--json", a->json, "One JSON object: changed, actions");
  enable->callback([a, &ctx] { ctx.exit_code = run_install(*a, ctx, true); });
}

}  // namespace cnm
