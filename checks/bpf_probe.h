// Whether this process can use bpf() at all, and with which capabilities; libbpf's messages
// routed to the debug log. The feature probes themselves are the ladder's (probe/kernel_answers.h,
// checks/ladder_facts.h).
#pragma once

#include <sys/resource.h>

#include <string>

namespace cnm {

struct BpfAccess {
  bool usable = false;
  int error = 0;       // errno of the refused bpf() call
  std::string detail;  // human explanation when refused
};

// Sends libbpf's own messages to the debug log instead of stderr.
void route_libbpf_logs();

// Can this process call bpf() at all (creates and closes a one-entry array map)? Raises this
// process's RLIMIT_MEMLOCK first, as libbpf does on kernels that charge BPF memory to it.
const BpfAccess& bpf_access();

// RLIMIT_MEMLOCK as this process had it before bpf_access() raised it.
rlimit memlock_at_start();

// Whether this process holds a capability in its effective set (CAP_* number).
bool has_capability(int cap);

}  // namespace cnm
