// The layout a command acts with on a host cnmkit installed must be the one the install
// recorded (HostRecord::layout): `cnmctl status`, `uninstall` or a rerun of `install` with other
// paths or service names would act on the defaults, and an uninstall would remove the files of
// a probe it never stops. Such a command is refused instead, and told which layout to pass.
#pragma once

#include <string>

#include "common/cli_context.h"
#include "common/layout.h"
#include "installer/host_record.h"

namespace cnm {

// What the install state under `layout` (its root and state_dir) records; empty when none.
HostRecord host_record(const Layout& layout);

// Throws std::invalid_argument (usage: nothing is done) when `host` records an install in
// `given`'s mode whose layout differs from `given` (built from --layout or the defaults),
// naming it and, for cnm-probe, the copy the install wrote beside its config
// (probe_layout_file), which --layout takes as it is.
void check_host_layout(const CliContext& ctx, const Layout& given, const HostRecord& host);

}  // namespace cnm
