#include "tests/probe/bpf_runs.h"

#include <bpf/bpf.h>
#include <unistd.h>

namespace cnm::test {

BpfRunCounting::BpfRunCounting() : fd_(bpf_enable_stats(BPF_STATS_RUN_TIME)) {}

BpfRunCounting::~BpfRunCounting() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// The program types the probe's hooks load as: raw tracepoints, BTF-typed tracepoints
// (tracing), kprobes. Chosen by type rather than by name, so the list follows the BPF objects.
bool is_hook_type(__u32 type) {
  return type == BPF_PROG_TYPE_RAW_TRACEPOINT || type == BPF_PROG_TYPE_TRACING ||
         type == BPF_PROG_TYPE_KPROBE;
}

}  // namespace

std::string probe_program_runs() {
  std::string out;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    const int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && is_hook_type(info.type))
      out += "\n  prog " + std::to_string(id) + " type " + std::to_string(info.type) + " " +
             info.name + ": run_cnt " + std::to_string(info.run_cnt) + ", recursion_misses " +
             std::to_string(info.recursion_misses);
    ::close(fd);
  }
  return out.empty() ? "\n  (no tracing program loaded)" : out;
}

}  // namespace cnm::test
