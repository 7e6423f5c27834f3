#include "checks/preflight_cli.h"

#include <unistd.h>

#include <iostream>
#include <memory>
#include <stdexcept>

#include "checks/preflight.h"
#include "common/host_layout.h"
#include "common/printable.h"
#include "common/uname.h"
#include "probe/btf_archive.h"

namespace cnm {
namespace {

struct PreflightArgs {
  bool json = false;
  bool strict = false;
  bool no_cache = false;
  std::string root, probe = "auto";
  std::string kernel_release, cilium_version, agent_version, bpf_objects, btf_archive;
};

int run(const PreflightArgs& a, const CliContext& ctx) {
  PreflightOptions o;
  // The probe that will run, as `cnmctl install` chooses it: its binary's SELinux label, its
  // BTF folder and archive are what the checks look at.
  ModeChoice choice;
  o.layout = ctx.layout(a.root, a.probe, choice);
  o.probe_why = choice.why;
  // On a host cnmkit installed, the install's paths: the defaults would judge another config,
  // binary and BTF folder than the probe's.
  if (auto unread = check_recorded_layout(ctx, {o.layout}); !unread.empty())
    o.probe_notes.push_back(bounded_utf8(unread, kMaxMessageBytes));
  // On the live host the eBPF checks, limits.memlock and the BTF lookup ask the running kernel:
  // judging another release there would mix two kernels in one answer. Another kernel is judged
  // from a folder describing its host (--root), where every check reads files.
  if (const std::string running = running_uname().release;
      !a.kernel_release.empty() && o.layout.is_live() && a.kernel_release != running)
    throw std::invalid_argument(
        "--kernel-release " + a.kernel_release + " is not the running kernel (" + running +
        "): the live checks ask the running kernel, so the answer would mix two kernels; judge "
        "another kernel with --root DIR, a folder describing its host");
  if (!a.kernel_release.empty()) o.kernel_release = a.kernel_release;
  if (!a.cilium_version.empty()) o.cilium_version = a.cilium_version;
  if (!a.agent_version.empty()) o.agent_version = a.agent_version;
  if (!a.bpf_objects.empty()) o.bpf_object_dir = a.bpf_objects;
  if (!a.btf_archive.empty()) {
    // Beside an Agent found by --probe auto, left out as `cnmctl install` leaves it out, and
    // said; otherwise a file of this machine, as the install reads it (not a path inside --root).
    if (!probe::btf_archive_applies(a.probe, o.layout.mode))
      o.probe_notes.push_back("--btf-archive " + bounded_utf8(a.btf_archive, kMaxNameBytes) +
                              " left out: " + std::string(probe::kBtfArchiveNotTheAgents));
    else
      o.btf_archive = std::filesystem::absolute(a.btf_archive);
  }
  o.no_cache = a.no_cache;
  const auto report = run_preflight(o);
  if (a.json) {
    // Host files may hold any bytes; replace invalid UTF-8 rather than fail to print.
    std::cout << to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  } else {
    const bool color = ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
    std::cout << to_text(report, color);
  }
  std::cout.flush();
  return exit_code(report, a.strict);
}

}  // namespace

void add_preflight_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<PreflightArgs>();
  auto* cmd = app.add_subcommand(
      "preflight",
      "Check whether eBPF network monitoring will work on this host, and how to fix "
      "what stops it. Exit 0: supported, 1: unsupported (or any warning with "
      "--strict), 2: usage or internal error.");
  cmd->add_flag("--json", args->json,
                "Print one JSON object (schema: checks/preflight.schema.json)");
  cmd->add_flag("--strict", args->strict, "Exit 1 when any check warns");
  cmd->add_flag("--no-cache", args->no_cache,
                "Write nothing: read the kernel's remembered answers "
                "(<cache_dir>/preflight-kernel.json) but neither create nor update them");
  cmd->add_option("--root", args->root,
                  "Read host files below DIR (a folder describing a host); live-only checks skip")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--probe", args->probe,
                  "Whose probe to judge: agent (the Datadog Agent's system-probe), cnmkit "
                  "(cnm-probe) or auto (agent when the Agent is installed), as cnmctl install "
                  "chooses")
      ->check(CLI::IsMember({"auto", "agent", "cnmkit"}));
  cmd->add_option("--kernel-release", args->kernel_release,
                  "Judge this kernel release instead (with --root; on the live host only the "
                  "running one)");
  cmd->add_option("--cilium-version", args->cilium_version, "Cilium version on this host");
  cmd->add_option("--agent-version", args->agent_version, "Datadog Agent version on this host");
  cmd->add_option("--bpf-objects", args->bpf_objects,
                  "Verify the probe's BPF objects in DIR (and take BTF files from DIR/btf) instead "
                  "of those cnmctl carries");
  cmd->add_option("--btf-archive", args->btf_archive,
                  "Judge with this BTF archive (a file of this machine, even with --root) instead "
                  "of the BTF folder's: "
                  "the one `cnmctl install --btf-archive` would put in place (cnm-probe only: "
                  "beside the Agent its system-probe's own files count)");
  cmd->callback([args, &ctx] { ctx.exit_code = run(*args, ctx); });
}

}  // namespace cnm
