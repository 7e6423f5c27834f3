// cnm-probe's life: config, token, tracer, API; ready notification; clean stop on a signal.
#pragma once

#include <filesystem>

#include "common/layout.h"

namespace cnm::probe {

struct DaemonOptions {
  std::filesystem::path config_file;
  Layout layout;
};

// Runs until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean stop,
// 1 when the probe cannot load or attach, 2 on a bad config.
int run_daemon(const DaemonOptions& o);

}  // namespace cnm::probe
