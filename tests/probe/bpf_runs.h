// What the kernel says about the BPF programs loaded on the host, for a failure's message: runs
// made and runs skipped per program, so a lost event tells "the program did not run" from "it ran
// and did not find its entry".
#pragma once

#include <string>

namespace cnm::test {

// Turns the kernel's run counting on (BPF_ENABLE_STATS, Linux 5.8+) while it lives; without it
// (an older kernel) run counts read 0 and the summary says so.
class BpfRunCounting {
 public:
  BpfRunCounting();
  ~BpfRunCounting();
  BpfRunCounting(const BpfRunCounting&) = delete;
  BpfRunCounting& operator=(const BpfRunCounting&) = delete;
  bool on() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// One line per loaded tracing program (raw tracepoint, BTF tracepoint, kprobe: the probe's
// hooks and any other the host runs): id, type, name, run_cnt and recursion_misses.
std::string probe_program_runs();

}  // namespace cnm::test
