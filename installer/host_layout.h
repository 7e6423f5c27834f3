// The layout a command acts with on a host cnmkit installed must be the one the install
// recorded (HostRecord::layout): `cnmctl status`, `uninstall` or a rerun of `install` with other
// paths or service names would act on the defaults, and an uninstall would remove the files of
// a probe it never stops. Such a command is refused instead, and told which layout to pass.
#pragma once

#include <string>

#include "common/cli_context.h"
#include "common/layout.h"

namespace cnm {

// `mode`'s layout from --layout (or the defaults). Throws std::invalid_argument (usage: nothing
// is done) when the host records an install in `mode` whose layout differs, naming it and, for
// cnm-probe, the copy the install wrote beside its config (probe_layout_file), which --layout
// takes as it is.
Layout host_layout(const CliContext& ctx, const std::string& root, ProbeMode mode);

}  // namespace cnm
