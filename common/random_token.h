// A secret token: 32 random bytes from the kernel, as 64 lowercase hex characters. Used where
// cnmkit makes a probe's bearer token (the installer for a standalone cnm-probe, cnm-probe
// itself when its token file is missing).
#pragma once

#include <string>

namespace cnm {

std::string random_token();

}  // namespace cnm
