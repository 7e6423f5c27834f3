// Live eBPF feature probes through libbpf (the same probes bpftool uses), each a tiny program
// or map the kernel accepts or refuses. Results are cached for the process: every check that
// asks the same question pays for one bpf() call.
#pragma once

#include <string>

namespace cnm {

struct BpfAccess {
  bool usable = false;
  int error = 0;       // errno of the refused bpf() call
  std::string detail;  // human explanation when refused
};

// Sends libbpf's own messages to the debug log instead of stderr.
void route_libbpf_logs();

// Can this process call bpf() at all (creates and closes a one-entry array map)?
const BpfAccess& bpf_access();

bool bpf_prog_type_supported(int prog_type);
bool bpf_map_type_supported(int map_type);
bool bpf_helper_supported(int prog_type, int helper);

// Whether this process holds a capability in its effective set (CAP_* number).
bool has_capability(int cap);

}  // namespace cnm
