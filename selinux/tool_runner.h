// Runs one of the SELinux policy tools (checkmodule, semodule_package) and captures what it
// says. Only the .te compile shells out: no library parses .te text. Loading, fcontext and
// relabelling go through libsemanage and libselinux.
#pragma once

#include <string>
#include <vector>

namespace cnm::selinux {

struct ToolResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;  // stdout and stderr, interleaved as the tool wrote them
};

// Throws std::runtime_error naming the tool and its Debian package when it is not installed.
ToolResult run_tool(const std::vector<std::string>& argv, const std::string& debian_package);

}  // namespace cnm::selinux
