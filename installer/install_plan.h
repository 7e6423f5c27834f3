// Computes the whole install plan from the host, the release (optional) and the options.
#pragma once

#include <optional>
#include <string>

#include "common/layout.h"
#include "installer/agent_version.h"
#include "installer/config_step.h"
#include "installer/plan.h"
#include "installer/release_archive.h"
#include "installer/service_manager.h"

namespace cnm {

struct InstallRequest {
  std::optional<Release> release;
  AgentInfo agent;
  ConfigRequest config;
  ServiceManager manager = ServiceManager::None;  // already resolved
};

// Fills {{layout_field}} placeholders of the unit and init script templates.
std::string render_template(std::string_view tmpl, const Layout& layout);

// Where a release entry goes on the host and with which mode; nullopt for unknown entries.
std::optional<std::pair<std::string, mode_t>> release_destination(const Layout& layout,
                                                                  const std::string& entry);

Plan plan_install(const Layout& layout, const InstallRequest& req, const CommandRunner& run);

}  // namespace cnm
