#include "selinux/tool_runner.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/process.h"

namespace cnm::selinux {

ToolResult run_tool(const std::vector<std::string>& argv, const std::string& debian_package) {
  const auto p = run_process(argv);
  if (p.spawn_error == ENOENT)
    throw std::runtime_error(argv[0] + " not found: install the Debian package " + debian_package);
  if (p.spawn_error != 0)
    throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(p.spawn_error));
  return {p.exit_code >= 128 ? -1 : p.exit_code, p.output};
}

}  // namespace cnm::selinux
