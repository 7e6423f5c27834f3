// The layout a command acts with on a host cnmkit installed must be the one the install
// recorded (HostRecord::layout): `cnmctl status`, `uninstall` or a rerun of `install` with other
// paths or service names would act on the defaults, and an uninstall would remove the files of
// a probe it never stops; the preflight would judge another config, binary label and BTF folder
// than the probe's, and `cnmctl selinux` would label another binary. Such a command is refused
// instead, and told which layout to pass.
#pragma once

#include <string>
#include <vector>

#include "common/cli_context.h"
#include "common/host_record.h"
#include "common/layout.h"

namespace cnm {

// What the install state under `layout` (its root and state_dir) records; empty when none.
HostRecord host_record(const Layout& layout);

// Throws std::invalid_argument (usage: nothing is done) when `host` records an install in
// `given`'s mode whose layout differs from `given` (built from --layout or the defaults),
// naming it and, for cnm-probe, the copy the install wrote beside its config
// (probe_layout_file), which --layout takes as it is.
void check_host_layout(const CliContext& ctx, const Layout& given, const HostRecord& host);
// For the commands that do not act on the install (the preflight, `cnmctl selinux`): the same
// against what the host records under the root and state_dir of `given` (one or more layouts,
// of either mode), read once. A record that cannot be read (this user may not: state.json is
// root's; damaged; a layout this cnmctl cannot parse) does not stop them: the returned text
// says why it was not checked, for the command's answer; "" when it was.
std::string check_recorded_layout(const CliContext& ctx, const std::vector<Layout>& given);

}  // namespace cnm
