// The probe's health over its unix socket: GET /health with the bearer token (probe/README.md:
// 200 and "status":"ok" when programs are attached).
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

// One request.
Health probe_health(const Layout& layout);
// Retries until healthy or `limit` passes; returns the last answer.
Health wait_for_health(const Layout& layout, std::chrono::milliseconds limit);

}  // namespace cnm
