#include "selinux/selinux_cli.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <sstream>

#include "common/host_layout.h"
#include "common/printable.h"
#include "selinux/module_install.h"
#include "selinux/status.h"

namespace cnm {
namespace {

struct SelinuxArgs {
  std::string root, policy, binary, probe = "auto";
  bool dry_run = false;
  bool json = false;
};

// Why the install's record was not compared with this command's layout, on stderr (the
// command goes on: its answer or change does not depend on the record).
void warn_unread_record(const std::string& why) {
  if (!why.empty()) std::cerr << "cnmctl selinux: warning: " << printable(why) << "\n";
}

void print_json(const nlohmann::json& j) {
  // Host files and tool output may hold any bytes; replace invalid UTF-8 rather than fail.
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

nlohmann::json to_json(const selinux::ChangeReport& r) {
  return {{"action", r.action},   {"module", r.module},       {"version", r.version},
          {"changed", r.changed}, {"committed", r.committed}, {"commit_seconds", r.commit_seconds},
          {"steps", r.steps},     {"notes", r.notes}};
}

void print_text(const selinux::ChangeReport& r, bool dry_run) {
  std::ostringstream out;  // steps and notes carry libsemanage messages and host paths
  for (const auto& s : r.steps) out << "  " << s << "\n";
  for (const auto& n : r.notes) out << "note: " << n << "\n";
  if (dry_run)
    out << (r.changed ? "would change the policy store\n" : "nothing to change\n");
  else if (!r.changed)
    out << r.action << ": nothing changed ("
        << (r.action == "install" ? r.module + " " + r.version + " is already in place"
                                  : r.module + " is not installed")
        << ")\n";
  else
    out << r.action << ": done" << (r.committed ? " (policy store committed)" : "") << "\n";
  std::cout << printable(out.str());
}

int run_change(const std::string& action, const SelinuxArgs& a, const CliContext& ctx) {
  selinux::ChangeOptions o;
  // libsemanage keeps the root process-wide and resolves it later: make it absolute now.
  const std::string root = a.root.empty() ? a.root : std::filesystem::absolute(a.root).string();
  ModeChoice mode;
  o.layout = ctx.layout(root, a.probe, mode);
  o.other_mode =
      ctx.layout(root, mode.mode == ProbeMode::Agent ? ProbeMode::Standalone : ProbeMode::Agent);
  // The binaries labelled are the installs' (usage error, before the store is touched).
  warn_unread_record(check_recorded_layout(ctx, {o.layout, *o.other_mode}));
  if (!a.policy.empty()) o.policy_file = a.policy;
  if (!a.binary.empty()) o.binary = a.binary;
  o.dry_run = a.dry_run;
  try {
    const auto r = action == "install" ? selinux::install(o) : selinux::remove(o);
    if (a.json)
      print_json(to_json(r));
    else
      print_text(r, a.dry_run);
    return kExitOk;
  } catch (const std::exception& e) {
    // PolicyError, StoreError, missing tools: all happen before or in the commit, which
    // either applies everything or nothing.
    if (a.json) print_json({{"action", action}, {"error", e.what()}, {"changed", false}});
    std::cerr << "cnmctl selinux " << action << ": " << printable(e.what()) << "\n";
    return kExitNotFit;
  }
}

int run_status(const SelinuxArgs& a, const CliContext& ctx) {
  ModeChoice mode;
  Layout l = ctx.layout(a.root, a.probe, mode);
  warn_unread_record(check_recorded_layout(ctx, {l}));
  if (!a.binary.empty()) l.probe_binary = a.binary;
  const auto s = selinux::read_status(l);
  if (a.json) {
    print_json({{"mode", s.mode},
                {"config_mode", s.store.config_mode},
                {"policy_type", s.store.policy_type},
                {"store_path", s.store.path},
                {"store_problem", s.store.problem},
                {"store_present", s.store_present},
                {"store_readable", s.store_readable},
                {"module", l.selinux_module},
                {"module_installed", s.module_installed},
                {"module_version", s.module_version},
                {"probe", to_string(mode.mode)},
                {"binary", l.probe_binary},
                {"binary_labeled",
                 s.binary_labeled ? nlohmann::json(*s.binary_labeled) : nlohmann::json(nullptr)},
                {"binary_context", s.binary_context}});
    return kExitOk;
  }
  std::ostringstream out;
  out << "SELinux mode:   " << s.mode
      << (s.store.config_mode.empty() ? "" : " (configured: " + s.store.config_mode + ")") << "\n"
      << "policy store:   "
      << (s.store_present ? s.store.policy_type + " (" + s.store.path + ")" : std::string("none"))
      << (s.store_readable ? "" : " (not readable by this user: run as root)") << "\n"
      << (s.store.problem.empty() ? "" : "store problem:  " + s.store.problem + "\n")
      << "module:         " << l.selinux_module << " "
      << (!s.store_readable ? std::string("unknown (the store is not readable)")
          : s.module_installed
              ? "installed" + (s.module_version.empty() ? std::string()
                                                        : " (version " + s.module_version + ")")
              : std::string("not installed"))
      << (s.module_installed && s.mode == "disabled" ? ", not loaded (SELinux is off)" : "") << "\n"
      << "binary:         " << l.probe_binary << " "
      << (!s.binary_labeled ? std::string("missing or unlabelled")
                            : (*s.binary_labeled ? "labelled " : "NOT labelled ") + l.selinux_type +
                                  " (" + s.binary_context + ")")
      << "\n";
  std::cout << printable(out.str());
  return kExitOk;
}

}  // namespace

void add_selinux_commands(CLI::App& app, CliContext& ctx) {
  auto* group = app.add_subcommand(
      "selinux", "Install, remove or show the probe's SELinux policy module and file labels");
  group->require_subcommand(1);
  auto add = [&](const std::string& name, const std::string& help, bool changes) {
    auto args = std::make_shared<SelinuxArgs>();
    auto* cmd = group->add_subcommand(name, help);
    cmd->add_option("--root", args->root,
                    "Act on the host described below DIR (its /etc/selinux and policy store); "
                    "the running kernel's policy is never reloaded")
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--probe", args->probe,
                    "Whose probe: agent (the Datadog Agent's system-probe), cnmkit (cnm-probe) or "
                    "auto (agent when the Agent is installed)")
        ->check(CLI::IsMember({"auto", "agent", "cnmkit"}));
    cmd->add_option("--binary", args->binary,
                    "The probe binary's path on the host (default: the layout's probe_binary)");
    cmd->add_flag("--json", args->json, "Print one JSON object");
    if (changes) {
      cmd->add_flag("--dry-run", args->dry_run, "Say what would change; change nothing");
      if (name == "install")
        cmd->add_option("--policy", args->policy,
                        "Compile and install this .te instead of the packaged module")
            ->check(CLI::ExistingFile);
      cmd->callback([name, args, &ctx] { ctx.exit_code = run_change(name, *args, ctx); });
    } else {
      cmd->callback([args, &ctx] { ctx.exit_code = run_status(*args, ctx); });
    }
  };
  add("install",
      "Install the policy module and fcontext rules, relabel the probe (no-op when in place)",
      true);
  add("remove", "Remove the policy module and fcontext rules, relabel the probe", true);
  add("status", "SELinux mode, our module and its version, the probe binary's label", false);
}

}  // namespace cnm
