// Which way the probe runs on a host (common/layout.h, ProbeMode), decided once per run for
// every part (installer, SELinux, preflight) so they never disagree: beside a Datadog Agent,
// configure the Agent's own system-probe; without one, cnmkit's cnm-probe stands alone.
#pragma once

#include <string>
#include <string_view>

#include "common/host_fs.h"
#include "common/layout.h"

namespace cnm {

struct ModeChoice {
  ProbeMode mode = ProbeMode::Standalone;
  std::string why;  // for plans and reports: "datadog-agent 7.50.0 (dpkg status ...)"
};

// requested: "auto", "agent" or "cnmkit" (--probe; throws std::invalid_argument for others).
// auto: agent mode when the Datadog Agent is installed: its package in dpkg's status database,
// its version-manifest.json (every package format and the install script write it; the
// Datadog installer's too, common/agent.h) or its system-probe binary, at the agent layout's
// paths; standalone otherwise.
ModeChoice choose_probe_mode(const HostFs& fs, const Layout& agent_layout,
                             std::string_view requested);

}  // namespace cnm
