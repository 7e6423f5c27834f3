// Logging setup shared by cnmctl and cnm-probe: logs go to stderr (results go to stdout), so
// `cnmctl preflight --json | jq` stays clean whatever the verbosity.
#pragma once

namespace cnm {

// verbosity: 0 = warnings and errors, 1 = info, 2+ = debug.
void setup_logging(int verbosity);

}  // namespace cnm
