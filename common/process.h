// Runs a program (no shell, PATH lookup) with stdin from /dev/null and captures what it prints
// on stdout and stderr together. For the few tools cnmkit drives as programs (checkmodule,
// semodule_package, systemctl, service, diff).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cnm {

struct ProcessResult {
  int spawn_error = 0;  // errno from posix_spawnp (ENOENT: not installed); 0 when it ran
  int exit_code = -1;   // exit status, 128+N when killed by signal N, -1 when not started
  std::string output;   // stdout and stderr interleaved, at most max_output bytes
};

ProcessResult run_process(const std::vector<std::string>& argv,
                          std::size_t max_output = 1024 * 1024);

// argv as one line, for messages ("systemctl restart x"); no quoting, it is never run.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace cnm
