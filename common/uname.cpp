#include "common/uname.h"

#include <sys/utsname.h>

namespace cnm {

Uname running_uname() {
  utsname u{};
  if (::uname(&u) != 0) return {};
  return {u.release, u.machine};
}

}  // namespace cnm
