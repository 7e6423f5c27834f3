// The probe's health over its unix socket, by mode:
//   standalone  cnm-probe's GET /health with its bearer token (probe/README.md: 200 and
//               "status":"ok" when programs are attached)
//   agent       the Agent's system-probe: GET /debug/stats, the endpoint Datadog's troubleshooting
//               guide curls on /opt/datadog-agent/run/sysprobe.sock; 200 is an answer. The
//               Agent's token goes along when it exists (cnmkit never creates it).
#pragma once

#include <chrono>
#include <string>

#include "common/layout.h"

namespace cnm {

struct Health {
  bool ok = false;
  int http_status = 0;  // 0: no answer
  std::string body;     // the probe's JSON, or why there was no answer
};

// The endpoint probe_health asks in each mode.
const char* health_path(ProbeMode mode);

// One request.
Health probe_health(const Layout& layout);
// Retries until healthy or `limit` passes; returns the last answer.
Health wait_for_health(const Layout& layout, std::chrono::milliseconds limit);

}  // namespace cnm
