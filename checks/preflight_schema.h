// checks/preflight.schema.json, compiled into cnmctl (generated preflight_schema.cpp), so the
// fleet report checks its inputs against the same contract the preflight publishes.
#pragma once

#include <string_view>

namespace cnm {

std::string_view preflight_schema_text();

}  // namespace cnm
