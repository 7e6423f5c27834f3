// What uname(2) says of the running kernel: always the live host's, whatever --root names
// (a host description's kernel is in its files: proc/sys/kernel/osrelease, .../arch).
#pragma once

#include <string>

namespace cnm {

struct Uname {
  std::string release;  // `uname -r`: "6.1.0-13-amd64"
  std::string machine;  // `uname -m`: "x86_64", "aarch64"
};

// Both "" when uname fails.
Uname running_uname();

}  // namespace cnm
