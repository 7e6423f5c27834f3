#include "checks/fleet_report_cli.h"

#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "checks/fleet_report.h"
#include "common/atomic_file.h"

namespace cnm {
namespace {

struct FleetArgs {
  std::vector<std::string> files;
  std::vector<std::string> failed;   // HOST=REASON
  std::vector<std::string> earlier;  // HOST.json kept from an earlier run
  std::vector<std::string> ungated;  // hosts rolled out whatever their answer says
  std::string format = "markdown";
  std::string output_dir;
  bool strict = false;
};

std::vector<HostFailure> parse_failed(const std::vector<std::string>& given) {
  std::vector<HostFailure> out;
  for (const auto& g : given) {
    const auto eq = g.find('=');
    if (eq == std::string::npos || eq == 0)
      throw FleetInputError("--failed " + g + ": expected HOST=REASON");
    out.push_back({g.substr(0, eq), g.substr(eq + 1)});
  }
  return out;
}

std::string render(const FleetReport& r, const std::string& format) {
  if (format == "json")
    return r.to_json().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return format == "csv" ? r.to_csv() : r.to_markdown();
}

bool same_content(const std::filesystem::path& p, const std::string& content) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream now;
  now << in.rdbuf();
  return now.str() == content;
}

// All three formats, each replaced atomically and only when its content changed, so a rerun
// over the same fleet leaves the files (and their mtimes) alone.
void write_all(const FleetReport& r, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  for (const auto& [format, name] :
       {std::pair{"json", "fleet-report.json"}, std::pair{"markdown", "fleet-report.md"},
        std::pair{"csv", "fleet-report.csv"}}) {
    const auto path = dir / name;
    const auto content = render(r, format);
    if (same_content(path, content)) {
      std::cout << "unchanged " << path.string() << "\n";
      continue;
    }
    atomic_write(path, content, 0644);
    std::cout << "wrote " << path.string() << "\n";
  }
}

int run(const FleetArgs& a) {
  try {
    if (a.files.empty() && a.failed.empty() && a.earlier.empty())
      throw FleetInputError(
          "no hosts: give preflight reports (HOST.json), --earlier HOST.json or --failed "
          "HOST=REASON");
    const std::vector<std::filesystem::path> files(a.files.begin(), a.files.end()),
        earlier(a.earlier.begin(), a.earlier.end());
    const auto report =
        FleetReport::from_files(files, parse_failed(a.failed), a.strict, earlier, a.ungated);
    if (a.output_dir.empty())
      std::cout << render(report, a.format);
    else
      write_all(report, a.output_dir);
    std::cout.flush();
    return kExitOk;
  } catch (const std::exception& e) {
    std::cerr << "cnmctl fleet report: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace

void add_fleet_command(CLI::App& app, CliContext& ctx) {
  auto* fleet = app.add_subcommand("fleet", "Reports over many hosts (run on the controller)");
  fleet->require_subcommand(1);
  auto args = std::make_shared<FleetArgs>();
  auto* cmd = fleet->add_subcommand(
      "report",
      "Merge hosts' `cnmctl preflight --json` files (one per host, named HOST.json) into one "
      "report grouped by distribution and kernel build. Exit 0: report written, 2: a file is "
      "not a preflight report (named on stderr; nothing written).");
  cmd->add_option("files", args->files, "Preflight reports, HOST.json each");
  cmd->add_option("--failed", args->failed,
                  "HOST=REASON: a host whose preflight did not run (listed, never rolled out)")
      ->expected(1)  // one value each time: the files may follow it
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--earlier", args->earlier,
                  "HOST.json kept from an earlier run: the host is reported with that answer, "
                  "marked earlier_run (a run limited to other hosts still reports the fleet)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--ungated", args->ungated,
                  "HOST of the report that is rolled out whatever its answer says (the rollout "
                  "does not wait on its preflight): rollout true, marked ungated")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--format", args->format, "Printed format")
      ->check(CLI::IsMember({"json", "markdown", "csv"}));
  cmd->add_flag("--strict", args->strict,
                "A host where any check warns is unsupported (as preflight --strict judges it)");
  cmd->add_option("--output-dir", args->output_dir,
                  "Write fleet-report.json, .md and .csv here instead of printing one");
  cmd->callback([args, &ctx] { ctx.exit_code = run(*args); });
}

}  // namespace cnm
