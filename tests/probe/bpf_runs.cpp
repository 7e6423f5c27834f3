#include "tests/probe/bpf_runs.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <string_view>

namespace cnm::test {

BpfRunCounting::BpfRunCounting() : fd_(bpf_enable_stats(BPF_STATS_RUN_TIME)) {}

BpfRunCounting::~BpfRunCounting() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

bool is_probe_hook(std::string_view name) {
  // The kernel keeps the first 15 characters of a program's name.
  for (std::string_view hook : {"set_state", "inet_sock_set_s", "perf_set_state", "kprobe_set_stat",
                                "tcp_retransmit_", "perf_retransmit"})
    if (name.starts_with(hook)) return true;
  return false;
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
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && is_probe_hook(info.name))
      out += "\n  prog " + std::to_string(id) + " type " + std::to_string(info.type) + " " +
             info.name + ": run_cnt " + std::to_string(info.run_cnt) + ", recursion_misses " +
             std::to_string(info.recursion_misses);
    ::close(fd);
  }
  return out.empty() ? "\n  (no probe program loaded)" : out;
}

}  // namespace cnm::test
