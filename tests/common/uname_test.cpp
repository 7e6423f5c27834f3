// running_uname (common/uname.h): the running kernel's release, as the kernel's own file says
// it, and its machine.
#include "common/uname.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace cnm {
namespace {

std::string first_line_of(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

TEST(Uname, IsTheRunningKernel) {
  const Uname u = running_uname();
  EXPECT_EQ(u.release, first_line_of("/proc/sys/kernel/osrelease"));
  EXPECT_FALSE(u.release.empty());
  EXPECT_FALSE(u.machine.empty());
}

}  // namespace
}  // namespace cnm
