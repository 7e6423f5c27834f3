// A run of the installer is a Plan: computed from the host first (nothing touched), printed
// by --dry-run, then applied step by step with a journal so an interrupted run converges.
#pragma once

#include "common/host_record.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "installer/file_action.h"

namespace cnm {

// A command run against the host's service manager (systemctl, service, update-rc.d).
struct ServiceStep {
  std::vector<std::string> argv;
  std::string reason;
};

struct Plan {
  std::vector<FileAction> files;
  std::vector<ServiceStep> services;
  std::vector<ServiceStep> rollback_services;  // undo `services` if a later step fails
  // The endpoint the run's health check asks (health.h), when the run checks the probe.
  std::optional<std::string> health_check;
  HostRecord host;  // what the run records besides files (saved before its first change)
  std::vector<std::string> notes;  // decisions worth telling the operator (agent version, ...)

  bool changes() const;
};

// Lists every action with whether it changes anything; the --json shape. With diffs (dry runs,
// --diff), each changing file also has "diff": what plan_text shows for it (Ansible's diff mode).
nlohmann::json plan_json(const Plan& plan, bool with_diffs = false);
// Human-readable plan; with diffs, a unified diff of every text file that changes.
std::string plan_text(const Plan& plan, bool with_diffs);

}  // namespace cnm
