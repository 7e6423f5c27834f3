// The fleet report: many hosts' `cnmctl preflight --json` answers merged into one report, grouped
// by distribution and kernel build. Each group says its verdict, the probe's rung, the features
// its hosts lose and every failing or warning check with its fix and the hosts it concerns; each
// host gets a row saying whether it is rolled out. Hosts whose preflight never ran (the package
// did not install, the host was unreachable) are listed with the reason. Rendered as JSON for
// machines, Markdown and CSV for people (fleet_report_render.cpp).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace cnm {

// One input that is not a valid preflight report: what() names the file and what is wrong.
class FleetInputError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A host without a preflight report, and why (given by the caller, e.g. Ansible's error).
struct HostFailure {
  std::string host;
  std::string reason;
};

struct FleetHost {
  std::string host;
  std::string state;         // "supported", "unsupported" or "failed" (no preflight report)
  std::string reason = {};   // why it failed, for "failed"
  nlohmann::json preflight;  // the validated preflight report; null for "failed"
  // Its answer was kept from an earlier run (a run limited to other hosts): not asked now.
  bool earlier_run = false;
  // When that answer was saved (its file's modification time, UTC, "2026-11-20T10:00:00Z");
  // empty for an answer of this run or one given as a document.
  std::string answered_at = {};
  // Rolled out whatever its answer says: the rollout does not wait on its preflight
  // (Ansible's cnmkit_preflight: false for it).
  bool ungated = false;

  bool rollout() const { return ungated || state == "supported"; }
};

class FleetReport {
 public:
  // Reads each file (the host's name is the file name without ".json"), checks it against
  // checks/preflight.schema.json and adds the failures. Throws FleetInputError naming the first
  // bad file, or a host given twice; nothing is kept from a partial read.
  // strict: a host where any check warns counts as unsupported (preflight --strict).
  // earlier: answers kept from an earlier run, read like files, their rows marked earlier_run
  // and dated by their files' modification times (a run limited to some hosts still reports
  // the whole fleet).
  // ungated: hosts rolled out whatever their answer says (FleetHost::ungated); each must be a
  // host of the report.
  static FleetReport from_files(const std::vector<std::filesystem::path>& files,
                                const std::vector<HostFailure>& failed, bool strict = false,
                                const std::vector<std::filesystem::path>& earlier = {},
                                const std::vector<std::string>& ungated = {});
  // The same from already parsed reports: (file name, document), the host being the file name
  // without ".json"; checked like files.
  using Documents = std::vector<std::pair<std::string, nlohmann::json>>;
  static FleetReport from_documents(const Documents& reports,
                                    const std::vector<HostFailure>& failed, bool strict = false,
                                    const Documents& earlier = {},
                                    const std::vector<std::string>& ungated = {});

  const std::vector<FleetHost>& hosts() const { return hosts_; }  // sorted by name

  nlohmann::json to_json() const;
  std::string to_markdown() const;
  std::string to_csv() const;

 private:
  std::vector<FleetHost> hosts_;
};

// Largest preflight report read (a real one is about 6 KiB).
inline constexpr std::uintmax_t kMaxPreflightReportBytes = 4 << 20;

}  // namespace cnm
