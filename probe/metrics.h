// Prometheus text exposition of the daemon's counters (GET /metrics).
#pragma once

#include <string>

#include "probe/conn_json.h"

namespace cnm::probe {

// Every entry becomes `cnm_probe_NAME VALUE`, with HELP/TYPE lines. Names ending in
// `_current` or named like a size are gauges; the rest are counters.
std::string prometheus_text(const StatMap& stats);

}  // namespace cnm::probe
