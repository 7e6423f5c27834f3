// Users and groups of the host (or of --root), read from ROOT/etc/passwd and ROOT/etc/group
// (not from the machine running cnmctl, which may be an image builder). Never through NSS
// (getpwnam and friends): the shipped binaries are static and a static glibc cannot load NSS
// modules at run time (cmake/CnmDeps.cmake); fgetpwent/fgetgrent parse the files themselves.
#pragma once

#include <optional>
#include <string>

#include "common/atomic_file.h"
#include "common/layout.h"

namespace cnm {

std::optional<uid_t> find_user(const Layout& layout, const std::string& name);
std::optional<gid_t> find_group(const Layout& layout, const std::string& name);

// "USER:GROUP" (names looked up on the host, or numeric ids). Throws std::invalid_argument.
FileOwner parse_owner(const Layout& layout, const std::string& spec);

// The config's owner as `install -m 0640` by the agent's setup gives it: root and the agent's
// group. Throws std::runtime_error naming the missing group.
FileOwner config_owner(const Layout& layout);

}  // namespace cnm
