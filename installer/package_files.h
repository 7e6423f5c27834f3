// Which installed package owns a host path. cnmkit never writes a file another package ships:
// the package manager would put its own copy back at the next upgrade, and `dpkg --verify` /
// `rpm -V` would report it changed. Asked before a plan writes anything.
//   dpkg: its database under the root, var/lib/dpkg/info/PACKAGE.list (one path per line),
//         read directly (inside the root's jail), so it works under --root on any machine.
//   rpm:  `rpm --root ROOT -qf PATH...` when the root has an rpm database and this machine
//         has rpm (the database is not a text format).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/layout.h"
#include "installer/apply.h"

namespace cnm {

// host path -> owning package, for those of `paths` a package owns.
std::map<std::string, std::string> package_owners(const Layout& layout,
                                                  const std::vector<std::string>& paths,
                                                  const CommandRunner& run);

}  // namespace cnm
